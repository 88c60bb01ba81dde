import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { getOptionsToken, getStorageToken, ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerRequest, type ThrottlerStorage } from '@nestjs/throttler';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { PlatformConfig } from '../config';
import { toGrpcPayload } from '../error-model';

/** Names of the two limits: per client IP (before authentication) and per verified token subject (after). */
export const THROTTLE_IP = 'ip';
export const THROTTLE_IDENTITY = 'identity';

/** Paths never limited: probes and scrapes come from the platform, often many per second. */
const UNLIMITED = /^\/(health|metrics)(\/|$|\?)/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Req = Record<string, any>;

/** Trailing metadata key of a RESOURCE_EXHAUSTED answer: seconds until the caller may try again. */
export const GRPC_RETRY_AFTER_KEY = 'retry-after';

/**
 * The client address of a gRPC call from grpc-js' `call.getPeer()` (`127.0.0.1:5123`, `ipv4:10.0.0.1:5123`,
 * `[::1]:5123`, `ipv6:[::1]:5123`); `unknown` when the transport does not say.
 */
export function grpcPeerAddress(peer: unknown): string {
  if (typeof peer !== 'string' || !peer) return 'unknown';
  const bare = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(bare);
  return v4 ? v4[1] : bare;
}

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
 * tokens are limited too). HTTP and gRPC unary calls alike (the guard is inherited by the gRPC
 * server): a gRPC call counts on the same keys as a REST request of the same client (its peer
 * address; its verified subject), so both transports spend one budget; over it -> RESOURCE_EXHAUSTED
 * with `retry-after` (seconds) in the trailing metadata. A limit of 0 is off. The store is shared
 * (PostgreSQL), so instances count together.
 */
@Injectable()
export class FlowlineThrottlerGuard extends ThrottlerGuard {
  protected readonly counts: string = THROTTLE_IP;

  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
    @Optional() @Inject(THROTTLE_IDENTITY_OF) private readonly identityOf?: IdentityResolver,
    @Optional() @Inject(PlatformConfig) private readonly platform?: PlatformConfig,
  ) {
    super(options, storage, reflector);
  }

  protected identity(req: Req): string | undefined {
    return requestIdentity(req, this.identityOf);
  }

  /** Per controller class and handler: whether this guard's limit applies there at all (see canActivate). */
  private readonly applies = new WeakMap<object, WeakMap<object, boolean>>();

  /**
   * A route this guard's limit never applies to (the default limit off, 0, and no `@Throttle` or
   * `@SkipThrottle` of its own) passes at once: the library's guard otherwise resolves every named
   * limit's options through the reflector (a dozen metadata reads and awaits) on every request, for
   * nothing (issue #10, per-request cost). Decided once per route.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.appliesTo(context)) return true;
    return super.canActivate(context);
  }

  private appliesTo(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const classRef = context.getClass();
    let byHandler = this.applies.get(classRef);
    if (!byHandler) this.applies.set(classRef, (byHandler = new WeakMap()));
    let applies = byHandler.get(handler);
    if (applies === undefined) {
      const targets = [handler, classRef];
      const own = ['THROTTLER:LIMIT', 'THROTTLER:SKIP'].some((key) => this.reflector.getAllAndOverride<unknown>(`${key}${this.counts}`, targets) !== undefined);
      const named = this.throttlers.find((t) => t.name === this.counts);
      const limit = named?.limit;
      applies = own || !named || named.skipIf !== undefined || typeof limit !== 'number' || limit > 0;
      byHandler.set(handler, applies);
    }
    return applies;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const type = context.getType();
    if (type === 'rpc') return false;
    if (type !== 'http') return true;
    const req = context.switchToHttp().getRequest<Req>();
    return UNLIMITED.test(String(req.url ?? ''));
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    if (props.throttler.name !== this.counts || props.limit <= 0) return true;
    const rpc = props.context.getType() === 'rpc';
    // gRPC: the auth guard attached the principal to the call's Metadata (the RPC context).
    const carrier = rpc ? props.context.switchToRpc().getContext<Req>() : props.context.switchToHttp().getRequest<Req>();
    if (props.throttler.name === THROTTLE_IDENTITY && !this.identity(carrier)) return true;
    return rpc ? this.handleCall(props, carrier) : super.handleRequest(props);
  }

  /** A gRPC unary call: the library's request path reads HTTP headers, so the count is kept here with the same store and keys. */
  private async handleCall(props: ThrottlerRequest, metadata: Req): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration } = props;
    const call = context.getArgByIndex<{ getPeer?: () => string } | undefined>(2);
    const tracker = this.counts === THROTTLE_IDENTITY ? `sub:${this.identity(metadata) ?? ''}` : `ip:${grpcPeerAddress(call?.getPeer?.())}`;
    const key = this.generateKey(context, tracker, throttler.name ?? this.counts);
    const r = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name ?? this.counts);
    if (!r.isBlocked) return true;
    const retryAfter = Math.max(1, r.timeToBlockExpire);
    const payload = toGrpcPayload(
      {
        reason: 'TOO_MANY_REQUESTS',
        message: `rate limit exceeded (${throttler.name}: ${limit} per ${Math.round(ttl / 1000)} s); retry after ${retryAfter} s`,
        httpStatus: 429,
        grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
        details: { limit, retryAfterSeconds: retryAfter },
        violations: [],
      },
      this.platform?.serviceName ?? 'flowline',
    );
    payload.metadata.set(GRPC_RETRY_AFTER_KEY, String(retryAfter));
    // Not an HttpException: the platform filter would rebuild the payload without the hint; RpcException's object goes to grpc-js as is.
    throw new RpcException(payload);
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
    // (HTTP only; gRPC calls are tracked in handleCall.)
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
