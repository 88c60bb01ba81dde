import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { RequestValidationError, uncleanTextFields } from '../validation';

/**
 * gRPC's counterpart of the global pipe's text check: gRPC handlers take the request message as a
 * plain argument (no pipe runs on it), so a string holding NUL or a lone surrogate is refused here,
 * INVALID_ARGUMENT naming the field, before the handler stores it (PostgreSQL cannot). Runs after
 * the guards: an unauthenticated call is still UNAUTHENTICATED.
 */
@Injectable()
export class CleanRpcTextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'rpc') {
      const unclean = uncleanTextFields(context.switchToRpc().getData());
      if (unclean.length) throw new RequestValidationError(unclean);
    }
    return next.handle();
  }
}
