import { type CallHandler, type ExecutionContext, HttpException, Injectable, type NestInterceptor } from '@nestjs/common';
import { principalOf } from '@flowline/auth';
import { PgThrottlerStorage } from '@flowline/platform';
import type { Observable } from 'rxjs';
import type { PortalConfig } from './portal.config';

const HOUR_MS = 3_600_000;

/** Portal actions a customer may take, each with its route in this service. */
const CAPPED: { action: keyof PortalConfig['caps']; method: string; route: RegExp }[] = [{ action: 'cancel', method: 'POST', route: /^\/api\/orders\/[^/]+\/cancel\/?$/ }];

/**
 * Per-customer quantity caps on portal actions (e.g. 3 cancellations an hour), counted per token
 * subject in the shared PostgreSQL counter, so a customer cannot go round the cap through another
 * instance. Staff and services are not capped here (their limits are the platform's per-identity
 * ones). An interceptor: it runs after the auth guard, so the principal is verified.
 */
@Injectable()
export class CustomerCapsInterceptor implements NestInterceptor {
  constructor(
    private readonly store: PgThrottlerStorage,
    private readonly caps: PortalConfig['caps'],
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<{ method: string; url: string }>();
    const principal = principalOf(req);
    if (principal?.roles.includes('customer')) {
      const path = req.url.split('?')[0];
      const capped = CAPPED.find((c) => c.method === req.method && c.route.test(path));
      if (capped) {
        const limit = this.caps[capped.action];
        const r = await this.store.increment(`portal-cap:${capped.action}:${principal.issuer}|${principal.subject}`, HOUR_MS, limit, HOUR_MS, 'customer-cap');
        if (r.isBlocked) {
          context.switchToHttp().getResponse<{ header(n: string, v: string): void }>().header('Retry-After', String(r.timeToBlockExpire));
          throw new HttpException({ code: 'PORTAL_ACTION_CAP', message: `at most ${limit} ${capped.action} requests an hour from the portal`, details: { action: capped.action, limit } }, 429);
        }
      }
    }
    return next.handle();
  }
}
