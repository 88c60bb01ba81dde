import { type CallHandler, type ExecutionContext, HttpException, Inject, Injectable, type NestInterceptor, Optional } from '@nestjs/common';
import { getStorageToken, type ThrottlerStorage } from '@nestjs/throttler';
import type { Observable } from 'rxjs';
import { THROTTLE_IDENTITY_OF, type IdentityResolver } from './throttle.guard';

const HOUR_MS = 3_600_000;

/** One capped portal action: a route (method + path) a customer token may call a few times an hour. */
export interface CustomerCap {
  action: string;
  method: string;
  path: RegExp;
  perHour: number;
}

function perHour(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw} must be a positive integer`);
  return n;
}

/**
 * The portal actions and their caps per customer and hour (issue #16): cancellations
 * (order-intake), change requests (approval). Each service matches only its own routes.
 */
export function customerCapsFromEnv(env: NodeJS.ProcessEnv = process.env): CustomerCap[] {
  return [
    { action: 'cancel', method: 'POST', path: /^\/api\/orders\/[^/]+\/cancel\/?$/, perHour: perHour(env, 'PORTAL_CANCELS_PER_HOUR', 3) },
    { action: 'change-request', method: 'POST', path: /^\/api\/change-requests\/?$/, perHour: perHour(env, 'PORTAL_CHANGE_REQUESTS_PER_HOUR', 5) },
  ];
}
export const CUSTOMER_CAPS = Symbol.for('flowline.throttle.customer-caps');

/**
 * Per-customer quantity caps on portal actions, counted per token subject in the shared
 * PostgreSQL counter (every instance shares it): over the cap -> 429 PORTAL_ACTION_CAP with
 * Retry-After. Staff and services are not capped here. An interceptor: after the auth guard.
 */
@Injectable()
export class CustomerCapsInterceptor implements NestInterceptor {
  constructor(
    @Inject(getStorageToken()) private readonly storage: ThrottlerStorage,
    @Inject(CUSTOMER_CAPS) private readonly caps: CustomerCap[],
    @Optional() @Inject(THROTTLE_IDENTITY_OF) private readonly identityOf?: IdentityResolver,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<{ method: string; url: string }>();
    const cap = this.caps.find((c) => c.method === req.method && c.path.test(req.url.split('?')[0]));
    if (!cap) return next.handle();
    const principal = this.identityOf?.(req);
    if (!principal?.subject || !principal.roles?.includes('customer')) return next.handle();
    const r = await this.storage.increment(`portal-cap:${cap.action}:${principal.issuer ?? ''}|${principal.subject}`, HOUR_MS, cap.perHour, HOUR_MS, 'customer-cap');
    if (r.isBlocked) {
      context.switchToHttp().getResponse<{ header(n: string, v: string): void }>().header('Retry-After', String(r.timeToBlockExpire));
      throw new HttpException({ code: 'PORTAL_ACTION_CAP', message: `at most ${cap.perHour} ${cap.action} requests an hour from the portal`, details: { action: cap.action, limit: cap.perHour } }, 429);
    }
    return next.handle();
  }
}
