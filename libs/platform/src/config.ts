/**
 * Process configuration read from the environment, in one place so every service reads the same
 * variables the same way. Pure functions of `env` (tests pass their own).
 */

/** Default PostgreSQL server when DATABASE_URL is not set (local trust auth, user postgres). */
export const DEFAULT_POSTGRES_SERVER = 'postgres://postgres@127.0.0.1:5432';

/** `order-intake` -> `flowline_order_intake`: each service owns one database. */
export function serviceDatabaseName(serviceName: string): string {
  return `flowline_${serviceName.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}`;
}

/**
 * The URL of a service's own database.
 * - an explicit `url` (tests pass the URL of a database made for them) wins;
 * - else DATABASE_URL: its server, and its database unless that is empty or the `postgres`
 *   admin database, in which case the service's own database on that server (so one
 *   DATABASE_URL=postgres://host:5432/postgres serves every service without mixing their tables);
 * - else the local server with the service's own database.
 */
export function resolveDatabaseUrl(defaultDatabase: string, env: NodeJS.ProcessEnv = process.env, url?: string): string {
  if (url) return url;
  const u = new URL(env.DATABASE_URL || `${DEFAULT_POSTGRES_SERVER}/`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database === 'postgres') u.pathname = `/${defaultDatabase}`;
  return u.toString();
}

/** The database name in a PostgreSQL URL. */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`no database name in ${redactUrl(url)}`);
  return name;
}

/** The URL with its password masked, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** The interface services listen on when HOST is not set: loopback only (deploy config sets HOST=0.0.0.0). */
export const DEFAULT_HOST = '127.0.0.1';

/**
 * CORS_ORIGINS as a list of exact origins (`https://console.example.com,http://127.0.0.1:3009`).
 * A wildcard is refused: the allow-list is the point.
 */
export function corsOriginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const origins = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  for (const o of origins) {
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw new Error(`CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port])`);
    }
    if (o === '*' || u.origin !== o) throw new Error(`CORS_ORIGINS: "${o}" is not an origin (scheme://host[:port], no path, no wildcard)`);
  }
  return origins;
}

/** KAFKA_BROKERS as a list (comma separated), 127.0.0.1:9092 by default. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * DATABASE_POOL_MAX: an upper bound on every PostgreSQL pool of the process (unset: each pool keeps
 * its own size). Lowers, never raises: `databasePoolMax(16)` is 16 unless the variable is smaller.
 * Replicas x pools must fit the server's max_connections (100 by default); three replicas of
 * every service at their default pool sizes can ask for more than that (issue #18).
 */
export function databasePoolMax(poolDefault: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DATABASE_POOL_MAX?.trim();
  if (!raw) return poolDefault;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`DATABASE_POOL_MAX=${raw} is not a positive integer`);
  return Math.min(poolDefault, n);
}

/**
 * DATABASE_POOL_IDLE_MS: how long an idle connection stays in a PostgreSQL pool of the process
 * (pg's `idleTimeoutMillis`; default 60 s, 0 = kept until the pool ends). pg's own default, 10 s,
 * closed connections between two bursts of work: each new one cost ~21 ms of backend CPU before its
 * first page of the log (fork, catalog caches, its prepared statements planned again), and a 25/s
 * end-to-end probe opened ~110 of them (issue #10).
 */
export function databasePoolIdleMillis(env: NodeJS.ProcessEnv = process.env): number {
  // Above 2^31-1 Node's timers fire after 1 ms: pg-pool would close idle connections at once.
  return timerSettingFromEnv(env, 'DATABASE_POOL_IDLE_MS', 60_000, 2_147_483_647, 'milliseconds');
}

/** A whole number from 0 to `max` in `env[name]`, else `fallback` when unset; anything else is a configuration error. */
function timerSettingFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number, unit: string): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name}=${raw} is not a whole number of ${unit} (0 to ${max})`);
  return n;
}

/**
 * DATABASE_POOL_LIFETIME_S: the longest a connection of a PostgreSQL pool of the process lives
 * (pg's `maxLifetimeSeconds`; default 300 s, 0 = for the pool's life). It is replaced when it is
 * next idle. PostgreSQL keeps a prepared statement's plan for its connection's life and plans
 * again only after DDL or an ANALYZE of what it reads. A plan made while a table was nearly empty
 * (a new system's first orders) reads the whole table, and on a server where nothing ANALYZEs the
 * table it kept doing so as the table grew: order-intake's event append went from 0.2 ms to 6 ms
 * and 2,400 buffers a call over 13k events (issue #10). A new connection plans again, for about
 * 21 ms of backend CPU once per lifetime.
 */
export function databasePoolLifetimeSeconds(env: NodeJS.ProcessEnv = process.env): number {
  // pg-pool arms a timer of n * 1000 ms: above 2^31-1 ms Node fires it after 1 ms.
  return timerSettingFromEnv(env, 'DATABASE_POOL_LIFETIME_S', 300, 2_147_483, 'seconds');
}

/** The idle and lifetime bounds every PostgreSQL pool of a service takes (pg Pool options). */
export function databasePoolTimings(env: NodeJS.ProcessEnv = process.env): { idleTimeoutMillis: number; maxLifetimeSeconds: number } {
  return { idleTimeoutMillis: databasePoolIdleMillis(env), maxLifetimeSeconds: databasePoolLifetimeSeconds(env) };
}

/**
 * A port from the environment (`HTTP_PORT`, `GRPC_PORT`), else the service's fixed default.
 * 0 is allowed (pick a free port). Anything else that is not a port is a configuration error.
 */
export function envPort(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

/** Request body limit in bytes: BODY_LIMIT_BYTES, else 1 MiB. */
export function bodyLimitFromEnv(env: NodeJS.ProcessEnv = process.env, fallback = 1_048_576): number {
  const raw = env.BODY_LIMIT_BYTES?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BODY_LIMIT_BYTES=${raw} is not a positive integer`);
  return n;
}

/**
 * What PlatformModule resolved for this service; inject it (`constructor(config: PlatformConfig)`)
 * instead of reading process.env in features.
 */
export class PlatformConfig {
  constructor(
    readonly serviceName: string,
    /** The service's own database; null when the service runs without one. */
    readonly database: { url: string; name: string } | null,
    /** Kafka brokers; null when the service runs without Kafka. */
    readonly kafka: { brokers: string[]; clientId: string } | null,
  ) {}
}
