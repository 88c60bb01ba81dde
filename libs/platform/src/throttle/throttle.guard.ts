import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { getOptionsToken, getStorageToken, ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerRequest, type ThrottlerStorage } from '@nestjs/throttler';
import type { Observable } from 'rxjs';

/** Names of the two limits: per client IP (before authentication) and per verified token subject (after). */
export const THROTTLE_IP = 'ip';
export const THROTTLE_IDENTITY = 'identity';

/** Paths never limited: probes and scrapes come from the platform, often many per second. */
const UNLIMITED = /^\/(health|metrics)(\/|$|\?)/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Req = Record<string, any>;

/** Finds the verified principal of a request ({subject, issuer}); @flowline/auth's `principalOf`. */
export type IdentityResolver = (req: object) => { subject?: string; issuer?: string; roles?: readonly string[] } | undefined;
export const THROTTLE_IDENTITY_OF = Symbol.for('flowline.throttle.identity-of');

/**
 * The verified subject of a request, as the auth guard left it (through `identityOf`, else
 * `request.principal` / `request.user`); undefined for an anonymous request. Never read from
 * headers or an unverified token: a forged subject must not spend someone else's budget.
 */
export function requestIdentity(req: Req, identityOf?: IdentityResolver): string | undefined {
  const p = identityOf?.(req) ?? req.principal ?? req.user;
  const subject: unknown = p?.subject ?? p?.sub;
  if (typeof subject !== 'string' || !subject) return undefined;
  const issuer: unknown = p?.issuer ?? p?.iss;
  return typeof issuer === 'string' && issuer ? `${issuer}|${subject}` : subject;
}

/**
 * The per-IP limit, as a global guard (it runs before authentication, so floods of bad or missing
 * tokens are limited too). HTTP only: gRPC calls are not limited here (see libs/platform README).
 * A limit of 0 is off. The store is shared (PostgreSQL), so instances count together.
 */
@Injectable()
export class FlowlineThrottlerGuard extends ThrottlerGuard {
  protected readonly counts: string = THROTTLE_IP;

  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
    @Optional() @Inject(THROTTLE_IDENTITY_OF) private readonly identityOf?: IdentityResolver,
  ) {
    super(options, storage, reflector);
  }

  protected identity(req: Req): string | undefined {
    return requestIdentity(req, this.identityOf);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Req>();
    return UNLIMITED.test(String(req.url ?? ''));
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    if (props.throttler.name !== this.counts || props.limit <= 0) return true;
    if (props.throttler.name === THROTTLE_IDENTITY && !this.identity(props.context.switchToHttp().getRequest<Req>())) return true;
    return super.handleRequest(props);
  }

  /**
   * One budget per client across the service for the default limits; a route that states its own
   * limit (`@Throttle({ ip: {...} })`) counts on its own key, so its budget is apart.
   */
  protected override generateKey(context: ExecutionContext, tracker: string, name: string): string {
    const own = this.reflector.getAllAndOverride<number | undefined>(`THROTTLER:LIMIT${name}`, [context.getHandler(), context.getClass()]);
    const scope = own === undefined ? '*' : `${context.getClass().name}.${context.getHandler().name}`;
    return createHash('sha256').update(`${scope}|${name}|${tracker}`).digest('hex');
  }

  /** The library suffixes headers with the limit's name (`Retry-After-ip`); clients read plain `Retry-After`. */
  protected override setResponseHeader(res: Req, name: string, value: string | number): void {
    super.setResponseHeader(res, /^retry-after-/i.test(name) ? 'Retry-After' : name, value);
  }

  protected override async getTracker(req: Req): Promise<string> {
    if (this.counts === THROTTLE_IDENTITY) return `sub:${this.identity(req) ?? ''}`;
    return `ip:${await super.getTracker(req)}`;
  }
}

/**
 * The per-identity limit. An interceptor, not a guard: interceptors run after every guard, so the
 * auth guard has verified the token and put the principal on the request by then, whatever order
 * the global guards were registered in.
 */
@Injectable()
export class IdentityThrottleInterceptor extends FlowlineThrottlerGuard implements NestInterceptor {
  protected override readonly counts: string = THROTTLE_IDENTITY;

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    await this.canActivate(context);
    return next.handle();
  }
}
