/**
 * Rate limits from the environment. 0 (the default outside deploy config) turns a default limit off,
 * so local runs, tests and `npm run bench` are not throttled unless they ask; routes that state their
 * own limit with `@Throttle` (the portal's one-time-code endpoints) are limited always.
 */
export interface ThrottleConfig {
  /** Window of the default limits, ms (RATE_LIMIT_WINDOW_MS, default 60 000). */
  windowMs: number;
  /** Requests per window per client IP (RATE_LIMIT_PER_IP, default 0 = off). */
  perIp: number;
  /** Requests per window per verified token subject (RATE_LIMIT_PER_IDENTITY, default 0 = off). */
  perIdentity: number;
}

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative integer`);
  return n;
}

export function throttleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ThrottleConfig {
  const windowMs = nonNegativeInt(env, 'RATE_LIMIT_WINDOW_MS', 60_000);
  if (windowMs === 0) throw new Error('RATE_LIMIT_WINDOW_MS must be positive');
  return { windowMs, perIp: nonNegativeInt(env, 'RATE_LIMIT_PER_IP', 0), perIdentity: nonNegativeInt(env, 'RATE_LIMIT_PER_IDENTITY', 0) };
}
