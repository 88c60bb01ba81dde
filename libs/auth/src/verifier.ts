import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig, TrustedIssuer } from './config';
import { principalFromClaims, type Principal } from './principal';

/** Why a token was refused (the 401's error_description; never echoes the token). */
export class InvalidTokenError extends Error {
  constructor(
    message: string,
    /** `invalid_request` for a malformed header, `invalid_token` otherwise (RFC 6750). */
    readonly error: 'invalid_token' | 'invalid_request' = 'invalid_token',
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

const ALGORITHMS = ['RS256', 'ES256'];

/** How long a verified token is taken as verified without checking its signature again (at most until it expires). */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Verified tokens remembered at once; past it the oldest is forgotten first. */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * Verifies bearer access tokens with jose: signature against the issuer's JWKS (fetched once,
 * cached, refetched when an unknown `kid` shows up: key rotation without a restart), `iss` one of
 * the trusted issuers, `aud` containing the audience, exp / nbf with the configured clock tolerance,
 * RS256 / ES256 only.
 *
 * A client sends the same token on every request until it expires, so the outcome of a successful
 * verification is kept for that exact token string, for VERIFIED_TOKEN_TTL_MS and never past the
 * token's `exp` (plus the clock tolerance): the signature check (WebCrypto, a thread-pool job per
 * request) ran on every request and was the largest part of order-intake's auth cost (issue #10).
 * Refusals are not kept. The principal handed out is frozen: requests share it.
 */
export class TokenVerifier {
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(
    readonly config: AuthConfig,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known) {
      if (this.now() < known.until) return known.principal;
      this.verified.delete(token);
    }
    if (!this.config.issuers.length) throw new InvalidTokenError('no trusted issuer configured (OIDC_ISSUER)');
    const issuer = this.issuerOf(token);
    const keys = await this.keysOf(issuer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.config.clockToleranceSec,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new InvalidTokenError(describe(error));
    }
    const principal = freezePrincipal(principalFromClaims(payload as JWTPayload & Record<string, unknown>));
    this.remember(token, principal, (payload.exp as number) * 1000 + this.config.clockToleranceSec * 1000);
    return principal;
  }

  private remember(token: string, principal: Principal, expiresAt: number): void {
    const until = Math.min(expiresAt, this.now() + VERIFIED_TOKEN_TTL_MS);
    if (!(until > this.now())) return;
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, { principal, until });
  }

  /** The trusted issuer named by the token's (unverified) `iss`; the signature check follows. */
  private issuerOf(token: string): TrustedIssuer {
    const parts = token.split('.');
    if (parts.length !== 3) throw new InvalidTokenError('not a JWT');
    let iss: unknown;
    try {
      iss = (JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    } catch {
      throw new InvalidTokenError('not a JWT');
    }
    const trimmed = typeof iss === 'string' ? iss.replace(/\/+$/, '') : '';
    const found = this.config.issuers.find((i) => i.issuer === trimmed);
    if (!found) throw new InvalidTokenError('untrusted issuer');
    return found;
  }

  private keysOf(issuer: TrustedIssuer): Promise<JWTVerifyGetKey> {
    let keys = this.keySets.get(issuer.issuer);
    if (!keys) {
      keys = this.jwksUriOf(issuer).then((uri) =>
        createRemoteJWKSet(new URL(uri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 }),
      );
      // A failed discovery is retried on the next request rather than cached.
      keys.catch(() => this.keySets.delete(issuer.issuer));
      this.keySets.set(issuer.issuer, keys);
    }
    return keys.catch((error: unknown) => {
      throw new InvalidTokenError(`issuer keys unavailable: ${(error as Error).message}`);
    });
  }

  private async jwksUriOf(issuer: TrustedIssuer): Promise<string> {
    if (issuer.jwksUri) return issuer.jwksUri;
    const res = await this.fetchImpl(`${issuer.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const doc = (await res.json()) as { jwks_uri?: string; issuer?: string };
    if (!doc.jwks_uri) throw new Error('discovery document without jwks_uri');
    return doc.jwks_uri;
  }
}

function freezePrincipal(p: Principal): Principal {
  for (const value of Object.values(p)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(p);
}

function describe(error: unknown): string {
  if (error instanceof InvalidTokenError) return error.message;
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} invalid`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JOSEError) return error.code.toLowerCase().replace(/^err_/, '').replace(/_/g, ' ');
  return 'token invalid';
}
