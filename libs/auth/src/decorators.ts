import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Action, Subject } from './policy';
import type { Principal } from './principal';

export const REQUIRES_KEY = 'flowline:auth:requires';
export const QUERY_TOKEN_KEY = 'flowline:auth:query-token';
export const PUBLIC_KEY = 'flowline:auth:public';
export const FOR_CUSTOMERS_KEY = 'flowline:auth:for-customers';

export interface Requirement {
  action: Action;
  subject: Subject;
}

/**
 * The ability a handler (or every handler of a controller) needs: `@Requires('refund', 'Order')`.
 * Several requirements on one handler must all hold. A handler with neither `@Requires` nor
 * `@Public` is admin-only (a forgotten decorator refuses rather than opens).
 */
export const Requires = (action: Action, subject: Subject) => SetMetadata(REQUIRES_KEY, [{ action, subject }] satisfies Requirement[]);

/** Requirements where any one suffices (e.g. pack OR ship). */
export const RequiresAny = (...requirements: [Action, Subject][]) =>
  SetMetadata(REQUIRES_KEY, requirements.map(([action, subject]) => ({ action, subject, any: true })));

/** OpenAPI extension marking an operation that needs no token (libs/platform's document drops it again). */
export const PUBLIC_OPENAPI_EXTENSION = 'x-flowline-public';

/** No token needed: health, metrics, docs, portal one-time-code endpoints, JWKS, signed webhooks. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(PUBLIC_OPENAPI_EXTENSION, true));

/**
 * The handler serves a buyer's token (the portal) and limits it to the orders the token names
 * (`requireOwnOrder`, `inScope`, or the command's own scope check). A customer's abilities are
 * conditional (`read Order` where the order is theirs), so they pass every type-level `@Requires`
 * of the same action; the guard therefore refuses a customer-only token (403) on every handler
 * without this mark: a new staff view cannot leak to buyers by omission.
 */
export const ForCustomers = () => SetMetadata(FOR_CUSTOMERS_KEY, true);

/**
 * The handler also takes the token as `?access_token=` (RFC 6750 2.3) when no Authorization header
 * is sent: for Server-Sent Events, which a browser's EventSource cannot send headers with. Only on
 * GET streams; the token then shows in access logs of proxies, so keep it to those.
 */
export const AllowQueryToken = () => SetMetadata(QUERY_TOKEN_KEY, true);

const PRINCIPALS = new WeakMap<object, Principal>();

/** Attaches the verified principal to a request (HTTP) or a call's metadata (gRPC). */
export function attachPrincipal(carrier: object, principal: Principal): void {
  PRINCIPALS.set(carrier, principal);
}

/** The principal the guard put on an HTTP request or a gRPC Metadata object. */
export function principalOf(carrier: object | undefined | null): Principal | undefined {
  return carrier ? PRINCIPALS.get(carrier) : undefined;
}

/** As principalOf, but a handler that needs one and has none is a wiring bug: throws. */
export function requirePrincipal(carrier: object | undefined | null): Principal {
  const p = principalOf(carrier);
  if (!p) throw new Error('no verified principal on this request (is the handler @Public?)');
  return p;
}

/** The principal of an execution context (HTTP request or gRPC metadata). */
export function principalFromContext(ctx: ExecutionContext): Principal | undefined {
  if (ctx.getType() === 'rpc') return principalOf(ctx.switchToRpc().getContext<object>());
  return principalOf(ctx.switchToHttp().getRequest<object>());
}

/** `@CurrentPrincipal() p: Principal` in an HTTP handler. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext) => principalFromContext(ctx));
