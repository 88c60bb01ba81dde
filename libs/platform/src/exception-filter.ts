import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { DomainError } from '@flowline/domain';
import { throwError, type Observable } from 'rxjs';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DEPENDENCY_RETRY_AFTER_SECONDS, dependencyUnavailableError, unavailableDependency } from './dependency-errors';
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
  if (error.httpStatus === 503 && error.reason === 'DEPENDENCY_UNAVAILABLE') httpAdapter.setHeader(response, 'retry-after', String(DEPENDENCY_RETRY_AFTER_SECONDS));
  httpAdapter.reply(response, toProblem(error, service, request?.url), error.httpStatus);
}

/**
 * Global filter for refused commands (DomainError), invalid requests (RequestValidationError) and
 * Nest's HttpExceptions (unknown route, body too large, ...), on HTTP and gRPC alike, in the one
 * error model of ./error-model.ts: problem+json on HTTP (409 / 404 / 422 for refusals, 400 for bad
 * input), google.rpc.Status on gRPC (FAILED_PRECONDITION / NOT_FOUND / INVALID_ARGUMENT). Other
 * errors go to {@link UnexpectedErrorFilter}.
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

/**
 * Global filter for everything else, registered before {@link DomainErrorFilter} (Nest tries the
 * later one first). An error that says a dependency is unavailable (PostgreSQL restarting, a
 * connection lost, the broker away) is 503 DEPENDENCY_UNAVAILABLE with Retry-After / gRPC
 * UNAVAILABLE: the client retries, with the same Idempotency-Key for a command. A fault-injection
 * audit found a PostgreSQL restart answered as Nest's bare `{"statusCode":500}`. Anything else is a
 * bug: logged with its stack and answered 500 INTERNAL problem+json / gRPC INTERNAL, without
 * internals; the X-Request-Id of the reply finds the log line.
 */
@Catch()
export class UnexpectedErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('UnexpectedError');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly service = 'flowline',
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    // An answer a gRPC handler or guard built itself (RpcException: the rate limit's RESOURCE_EXHAUSTED
    // with its retry-after trailer) goes to grpc-js as is, as Nest's own RPC filter does.
    if (host.getType() === 'rpc' && exception instanceof RpcException) return throwError(() => exception.getError());
    const dependency = unavailableDependency(exception);
    if (dependency) {
      this.log.warn(`request refused, ${dependency} unavailable: ${(exception as Error)?.message ?? String(exception)}`);
      return replyApiError(this.adapterHost, host, dependencyUnavailableError(dependency), this.service);
    }
    this.log.error((exception as Error)?.message ?? String(exception), (exception as Error)?.stack);
    const internal: ApiError = { reason: 'INTERNAL', message: 'internal error; the X-Request-Id of this reply names its log entry', httpStatus: 500, grpcStatus: GrpcStatus.INTERNAL, details: {}, violations: [] };
    return replyApiError(this.adapterHost, host, internal, this.service);
  }
}
