import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { headerError, replyApiError, toReason } from '@flowline/platform';
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

/** `"12"`, `W/"12"` or `12` -> 12; absent or `*` -> undefined. */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value.trim());
  if (!m) throw headerError('If-Match', 'isEtag', 'If-Match must be an ETag this API issued, e.g. "3"');
  return Number(m[1]);
}

export const etagOf = (revision: number): string => `"${revision}"`;
