import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DomainError } from '@flowline/domain';
import { throwError, type Observable } from 'rxjs';
import { apiErrorOf, PROBLEM_JSON, toGrpcPayload, toProblem, type ApiError } from './error-model';


/**
 * Answers `error` on whichever transport `host` is: gRPC gets the status code with google.rpc.Status
 * (ErrorInfo + BadRequest) in its trailers, HTTP gets RFC 9457 problem+json. For services' own
 * filters (e.g. a concurrency conflict that maps to 412 / ABORTED), so every error looks the same.
 */
export function replyApiError(adapterHost: HttpAdapterHost, host: ArgumentsHost, error: ApiError, service: string): Observable<never> | void {
  if (host.getType() === 'rpc') {
    const payload = toGrpcPayload(error, service);
    return throwError(() => payload);
  }
  const { httpAdapter } = adapterHost;
  const ctx = host.switchToHttp();
  const response = ctx.getResponse();
  const request = ctx.getRequest<{ url?: string }>();
  httpAdapter.setHeader(response, 'content-type', `${PROBLEM_JSON}; charset=utf-8`);
  httpAdapter.reply(response, toProblem(error, service, request?.url), error.httpStatus);
}

/**
 * Global filter for refused commands (DomainError), invalid requests (RequestValidationError) and
 * Nest's HttpExceptions (unknown route, body too large, ...), on HTTP and gRPC alike, in the one
 * error model of ./error-model.ts: problem+json on HTTP (409 / 404 / 422 for refusals, 400 for bad
 * input), google.rpc.Status on gRPC (FAILED_PRECONDITION / NOT_FOUND / INVALID_ARGUMENT). Other
 * errors keep Nest's default handling (500 / INTERNAL without internals leaked).
 */
@Catch(DomainError, HttpException)
export class DomainErrorFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    /** The service name: ErrorInfo.domain / problem `domain` (`<service>.flowline`). */
    private readonly service = 'flowline',
  ) {}

  catch(exception: DomainError | HttpException, host: ArgumentsHost): Observable<never> | void {
    const error = apiErrorOf(exception);
    if (!error) return throwError(() => exception);
    return replyApiError(this.adapterHost, host, error, this.service);
  }
}
