import { resolve } from 'node:path';

/** The customer portal's settings (services/order-intake README, "Customer portal"). */
export interface PortalConfig {
  /** `iss` of customer tokens; JWKS at `${issuer}/.well-known/jwks.json` (served under /portal). */
  issuer: string;
  /** `aud` of customer tokens (the services' OIDC_AUDIENCE). */
  audience: string;
  /** Customer token lifetime, seconds (15 min). */
  tokenTtlSec: number;
  /** One-time code lifetime, ms (5 min). */
  otpTtlMs: number;
  /** Wrong codes allowed; the next try is refused even with the right code (5). */
  maxAttempts: number;
  /** How long an order stays locked after the last allowed wrong code, ms (1 h). */
  lockMs: number;
  /** Signed-link lifetime, seconds (24 h). */
  linkTtlSec: number;
  /** Where the portal page opens a link (`?t=<signed link>`). */
  linkBaseUrl: string;
  /** The OTP request answers no sooner than this, whatever the path (no timing oracle), ms. */
  otpMinResponseMs: number;
  /** PEM (PKCS#8) ES256 private key (PORTAL_SIGNING_KEY or the file PORTAL_SIGNING_KEY_FILE); else generated in keyDir. */
  signingKeyPem?: string;
  /** HMAC secret for customer ids, code hashes (PORTAL_SECRET or PORTAL_SECRET_FILE); else generated in keyDir. */
  secret?: string;
  /** Git-ignored folder for generated keys (local runs only). */
  keyDir: string;
  /** notification's base URL (sends the SMS). */
  notificationUrl: string;
  /** One-time-code requests per IP per hour (route limit, shared by instances). */
  otpRequestsPerIpPerHour: number;
  /** Session attempts per IP per hour (route limit). */
  sessionAttemptsPerIpPerHour: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw} must be an integer >= ${min}`);
  return n;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

export function portalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const httpPort = env.HTTP_PORT?.trim() || '3001';
  const consoleUrl = trimSlash(env.CONSOLE_URL?.trim() || `http://127.0.0.1:${Number(httpPort) + 8}`);
  return {
    issuer: trimSlash(env.PORTAL_ISSUER?.trim() || `http://127.0.0.1:${httpPort}/portal`),
    audience: env.OIDC_AUDIENCE?.trim() || 'flowline',
    tokenTtlSec: int(env, 'PORTAL_TOKEN_TTL_SEC', 900),
    otpTtlMs: int(env, 'PORTAL_OTP_TTL_MS', 300_000),
    maxAttempts: int(env, 'PORTAL_OTP_MAX_ATTEMPTS', 5),
    lockMs: int(env, 'PORTAL_OTP_LOCK_MS', 3_600_000),
    linkTtlSec: int(env, 'PORTAL_LINK_TTL_SEC', 86_400),
    linkBaseUrl: env.PORTAL_LINK_BASE_URL?.trim() || `${consoleUrl}/portal/link`,
    otpMinResponseMs: int(env, 'PORTAL_OTP_MIN_RESPONSE_MS', 250, 0),
    ...(env.PORTAL_SIGNING_KEY?.trim() ? { signingKeyPem: env.PORTAL_SIGNING_KEY.replace(/\\n/g, '\n') } : {}),
    ...(env.PORTAL_SECRET?.trim() ? { secret: env.PORTAL_SECRET.trim() } : {}),
    keyDir: resolve(env.PORTAL_KEY_DIR?.trim() || '.data/portal-keys'),
    notificationUrl: trimSlash(env.NOTIFICATION_URL?.trim() || 'http://127.0.0.1:3005'),
    otpRequestsPerIpPerHour: int(env, 'PORTAL_OTP_PER_IP_PER_HOUR', 20),
    sessionAttemptsPerIpPerHour: int(env, 'PORTAL_SESSION_PER_IP_PER_HOUR', 60),
  };
}
