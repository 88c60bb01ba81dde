import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DomainError, isDomainError } from '@flowline/domain';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import { RequestValidationError } from './validation';

/** Body of an HTTP response for a refused command. */
export interface DomainErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** conflict -> 409, not_found -> 404, invalid -> 422. */
export function httpStatusOfDomainError(error: Pick<DomainError, 'kind'>): number {
  switch (error.kind) {
    case 'not_found':
      return 404;
    case 'invalid':
      return 422;
    default:
      return 409;
  }
}

/** conflict -> FAILED_PRECONDITION, not_found -> NOT_FOUND, invalid -> INVALID_ARGUMENT. */
export function grpcStatusOfDomainError(error: Pick<DomainError, 'kind'>): GrpcStatus {
  switch (error.kind) {
    case 'not_found':
      return GrpcStatus.NOT_FOUND;
    case 'invalid':
      return GrpcStatus.INVALID_ARGUMENT;
    default:
      return GrpcStatus.FAILED_PRECONDITION;
  }
}

/** Trailing metadata keys that carry a refused command's code and details over gRPC. */
export const GRPC_DOMAIN_CODE_KEY = 'x-domain-code';
export const GRPC_DOMAIN_DETAILS_KEY = 'x-domain-details';

/** The error object grpc-js turns into a status: code, details text and trailing metadata. */
export interface GrpcErrorPayload {
  code: GrpcStatus;
  message: string;
  details: string;
  metadata: Metadata;
}

export function toGrpcError(error: unknown): GrpcErrorPayload | undefined {
  const metadata = new Metadata();
  if (isDomainError(error)) {
    metadata.set(GRPC_DOMAIN_CODE_KEY, error.code);
    metadata.set(GRPC_DOMAIN_DETAILS_KEY, JSON.stringify(error.details));
    return { code: grpcStatusOfDomainError(error), message: error.message, details: error.message, metadata };
  }
  if (error instanceof RequestValidationError) {
    metadata.set(GRPC_DOMAIN_CODE_KEY, 'validation_failed');
    metadata.set(GRPC_DOMAIN_DETAILS_KEY, JSON.stringify(error.violations));
    return { code: GrpcStatus.INVALID_ARGUMENT, message: error.message, details: error.message, metadata };
  }
  return undefined;
}

/**
 * Global filter for refused commands (DomainError) and invalid requests, on HTTP and gRPC alike:
 * HTTP gets `{ code, message, details }` with 409 / 404 / 422 (validation keeps its 400 body);
 * gRPC gets FAILED_PRECONDITION / NOT_FOUND / INVALID_ARGUMENT with `x-domain-code` metadata.
 * Other errors are not caught here and keep Nest's default handling.
 */
@Catch(DomainError, RequestValidationError)
export class DomainErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: DomainError | RequestValidationError, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') {
      const grpcError = toGrpcError(exception);
      return throwError(() => grpcError ?? exception);
    }
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse();
    if (isDomainError(exception)) {
      const body: DomainErrorBody = { code: exception.code, message: exception.message, details: exception.details };
      httpAdapter.reply(response, body, httpStatusOfDomainError(exception));
    } else if (exception instanceof RequestValidationError) {
      httpAdapter.reply(response, exception.getResponse(), exception.getStatus());
    }
  }
}
