import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { attachPrincipal, FOR_CUSTOMERS_KEY, PUBLIC_KEY, QUERY_TOKEN_KEY, REQUIRES_KEY, type Requirement } from './decorators';
import { abilityFor } from './policy';
import type { Principal } from './principal';
import { isCustomerOnly } from './scope';
import { InvalidTokenError, TokenVerifier } from './verifier';

/** RFC 6750 challenge; the realm names the audience. */
export function wwwAuthenticate(realm: string, error?: InvalidTokenError): string {
  const parts = [`Bearer realm="${realm}"`];
  if (error) parts.push(`error="${error.error}"`, `error_description="${error.message.replace(/"/g, "'")}"`);
  return parts.join(', ');
}

interface HeaderCarrier {
  headers?: Record<string, string | string[] | undefined>;
}
interface ReplyLike {
  header?(name: string, value: string): unknown;
}
interface MetadataLike {
  get(key: string): unknown[];
}

/**
 * The global guard (libs/platform wires it as APP_GUARD on every service, REST and gRPC alike):
 *
 * - `@Public()` handlers pass;
 * - no bearer token -> 401 UNAUTHENTICATED (REST with `WWW-Authenticate: Bearer`; gRPC code 16);
 * - a token that fails verification (signature, iss, aud, exp, nbf) -> 401 with error="invalid_token";
 * - a token whose roles lack the handler's `@Requires` ability -> 403 FORBIDDEN problem+json / gRPC
 *   PERMISSION_DENIED; a handler without `@Requires` needs admin;
 * - a customer-only token (the portal's) -> 403 on every handler not marked `@ForCustomers()`,
 *   whatever its conditional abilities would pass: only handlers that scope by the token's orders
 *   serve buyers.
 *
 * The verified principal is attached to the request (HTTP) or the call's Metadata (gRPC); read it
 * with `principalOf(request | metadata)` or `@CurrentPrincipal()`. X-Actor-* headers mean nothing.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const rpc = ctx.getType() === 'rpc';
    const carrier: object = rpc ? ctx.switchToRpc().getContext<object>() : ctx.switchToHttp().getRequest<object>();
    let header = rpc ? grpcAuthorization(carrier as MetadataLike) : httpAuthorization(carrier as HeaderCarrier);
    if (!header && !rpc && this.reflector.getAllAndOverride<boolean>(QUERY_TOKEN_KEY, targets)) {
      const query = (carrier as { query?: Record<string, unknown> }).query;
      const token = query?.access_token;
      if (typeof token === 'string' && token) header = `Bearer ${token}`;
      // Not a parameter of the handler: the DTO (forbidNonWhitelisted) must not see it.
      if (query && 'access_token' in query) delete query.access_token;
    }
    const realm = this.verifier.config.audience;
    const challenge = (error?: InvalidTokenError): never => {
      if (!rpc) ctx.switchToHttp().getResponse<ReplyLike>().header?.('www-authenticate', wwwAuthenticate(realm, error));
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: error ? `bearer token refused: ${error.message}` : 'a bearer access token is required' });
    };
    if (!header) return challenge();
    const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
    if (!match) return challenge(new InvalidTokenError('malformed Authorization header', 'invalid_request'));
    let principal: Principal;
    try {
      principal = await this.verifier.verify(match[1]);
    } catch (error) {
      return challenge(error instanceof InvalidTokenError ? error : new InvalidTokenError('token invalid'));
    }
    attachPrincipal(carrier, principal);
    // Handlers that take `@Headers() h` find it there too (principalOf(h)).
    const headers = (carrier as HeaderCarrier).headers;
    if (!rpc && headers && typeof headers === 'object') attachPrincipal(headers, principal);

    if (isCustomerOnly(principal) && !this.reflector.getAllAndOverride<boolean>(FOR_CUSTOMERS_KEY, targets)) {
      throw new ForbiddenException({ code: 'FORBIDDEN', message: 'a customer token reads and acts on its own orders only, by order id' });
    }
    const requirements = this.reflector.getAllAndOverride<(Requirement & { any?: boolean })[]>(REQUIRES_KEY, targets) ?? [{ action: 'admin', subject: 'Admin' }];
    const ability = abilityFor(principal);
    const ok = requirements.some((r) => r.any)
      ? requirements.some((r) => ability.can(r.action, r.subject))
      : requirements.every((r) => ability.can(r.action, r.subject));
    if (ok) return true;
    const need = requirements.map((r) => `${r.action} ${r.subject}`).join(requirements.some((r) => r.any) ? ' or ' : ' and ');
    throw new ForbiddenException({ code: 'FORBIDDEN', message: `${principal.roles.join(', ') || 'no role'} may not ${need}`, details: { required: need } });
  }
}

function httpAuthorization(request: HeaderCarrier): string | undefined {
  const value = request.headers?.authorization;
  const header = Array.isArray(value) ? value[0] : value;
  return header?.trim() ? header : undefined;
}

function grpcAuthorization(metadata: MetadataLike): string | undefined {
  const [value] = typeof metadata?.get === 'function' ? metadata.get('authorization') : [];
  const header = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  return header?.trim() ? header : undefined;
}

/** Out-of-scope reads answer 404, like an unknown id (existence is not confirmed). */
export function notFoundOutOfScope(what: string, id: string, code = 'NOT_FOUND'): NotFoundException {
  return new NotFoundException({ code, message: `${what} ${id} not found`, details: { id } });
}
