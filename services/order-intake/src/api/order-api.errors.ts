import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { replyApiError, RequestValidationError, toReason } from '@flowline/platform';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Observable } from 'rxjs';
import { OrderVersionMismatch } from '../application/change-order.handler';
import { SERVICE } from '../service';

/**
 * If-Match / expected_version no longer holds: HTTP 412 with the current revision, gRPC ABORTED
 * (the gRPC code for a concurrency conflict the client resolves by re-reading); the platform's one
 * error model otherwise (problem+json, google.rpc.Status with reason ORDER_VERSION_MISMATCH).
 */
@Catch(OrderVersionMismatch)
export class OrderVersionMismatchFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: OrderVersionMismatch, host: ArgumentsHost): Observable<never> | void {
    const details = { orderId: error.orderId, expected: error.expected, actual: error.actual };
    return replyApiError(
      this.adapterHost,
      host,
      { reason: toReason(error.code), message: error.message, httpStatus: 412, grpcStatus: GrpcStatus.ABORTED, details, violations: [] },
      SERVICE.name,
    );
  }
}

/** A missing or malformed header, reported like a body field (400, names the header). */
export function headerError(header: string, constraint: string, message: string): RequestValidationError {
  return new RequestValidationError([{ field: header, constraint, message }]);
}

/** `"12"`, `W/"12"` or `12` -> 12; absent or `*` -> undefined. */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value.trim());
  if (!m) throw headerError('If-Match', 'isEtag', 'If-Match must be an ETag this API issued, e.g. "3"');
  return Number(m[1]);
}

export function checkIdempotencyKey(value: string | undefined, required: boolean): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw headerError('Idempotency-Key', 'required', 'Idempotency-Key header is required (a unique key per order submission)');
    return undefined;
  }
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw headerError('Idempotency-Key', 'format', 'Idempotency-Key must be 1-200 printable ASCII characters');
  return value;
}

export const etagOf = (revision: number): string => `"${revision}"`;
