/** Where tokens come from and for whom they must be (the auth contract, libs/auth/README.md). */
export interface AuthConfig {
  /** Trusted issuers: OIDC_ISSUER (staff + service clients), PORTAL_ISSUER (customer portal, optional). */
  issuers: TrustedIssuer[];
  /** `aud` must contain it (OIDC_AUDIENCE, default `flowline`). */
  audience: string;
  /** Seconds of clock skew allowed on exp / nbf (OIDC_CLOCK_TOLERANCE_SEC, default 30). */
  clockToleranceSec: number;
}

export interface TrustedIssuer {
  /** The exact `iss` value. */
  issuer: string;
  /** Its JWKS (remote, cached, refetched on an unknown kid). */
  jwksUri?: string;
  /** OIDC discovery (`${issuer}/.well-known/openid-configuration`) gives the JWKS when true. */
  discover: boolean;
}

export const DEFAULT_AUDIENCE = 'flowline';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * Reads the auth settings from the environment. No OIDC_ISSUER is a configuration error: a service
 * never runs unauthenticated (there is no bypass flag).
 */
export function authConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const issuers: TrustedIssuer[] = [];
  const staff = env.OIDC_ISSUER?.trim();
  if (staff) issuers.push({ issuer: trimSlash(staff), jwksUri: env.OIDC_JWKS_URI?.trim() || undefined, discover: !env.OIDC_JWKS_URI });
  const portal = env.PORTAL_ISSUER?.trim();
  if (portal) issuers.push({ issuer: trimSlash(portal), jwksUri: `${trimSlash(portal)}/.well-known/jwks.json`, discover: false });
  const tolerance = Number(env.OIDC_CLOCK_TOLERANCE_SEC ?? 30);
  return {
    issuers,
    audience: env.OIDC_AUDIENCE?.trim() || DEFAULT_AUDIENCE,
    clockToleranceSec: Number.isFinite(tolerance) && tolerance >= 0 ? Math.min(tolerance, 300) : 30,
  };
}
