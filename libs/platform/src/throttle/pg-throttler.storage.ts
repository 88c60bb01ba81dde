import type { ThrottlerStorage } from '@nestjs/throttler';
import { pgTransactions } from '@flowline/messaging';
import type { Pool } from 'pg';
import { runMigrations, type Migration } from '../migrations';

/** What @nestjs/throttler expects back from a storage (its ThrottlerStorageRecord). */
export interface ThrottleRecord {
  totalHits: number;
  /** Seconds until the window resets. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends (the Retry-After value); 0 when not blocked. */
  timeToBlockExpire: number;
}

export const THROTTLE_TABLE = 'flowline_throttle';

/** One table per service database; a key is sha256(route + throttler + tracker) from the guard. */
export const THROTTLE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'throttle counters',
    statements: [
      `CREATE TABLE IF NOT EXISTS ${THROTTLE_TABLE} (
         key text NOT NULL,
         throttler text NOT NULL,
         hits integer NOT NULL,
         expires_at timestamptz NOT NULL,
         blocked_until timestamptz,
         PRIMARY KEY (key, throttler)
       )`,
      `CREATE INDEX IF NOT EXISTS ${THROTTLE_TABLE}_expiry ON ${THROTTLE_TABLE} (expires_at)`,
    ],
  },
  {
    version: 2,
    // Counters are worth nothing after a crash (they restart at 0, as a new window would), so no
    // WAL: every counted request is an upsert, and on a logged table each was a commit waiting for
    // a WAL flush, on the same row for every request of one identity or IP.
    name: 'throttle counters unlogged (no WAL flush per counted request)',
    statements: [`ALTER TABLE ${THROTTLE_TABLE} SET UNLOGGED`],
  },
];

/**
 * A fixed-window counter in PostgreSQL, so every instance of a service counts against the same
 * limit. One statement per hit (INSERT .. ON CONFLICT DO UPDATE .. RETURNING): the row lock of the
 * upsert serialises concurrent hits on one key, so two instances never both see "under the limit"
 * for the same last slot.
 *
 * - a window expired (or a block ended): the count restarts at 1 with a new window;
 * - while blocked: hits are not counted, the block end is answered (Retry-After);
 * - the hit that goes over `limit` starts a block of `blockDuration` ms (the guard passes the ttl
 *   when no block duration is set, i.e. blocked until the window would have reset).
 *
 * Times come from the database clock (`clock_timestamp()`), not the instances', so instances with
 * skewed clocks still agree.
 */
export class PgThrottlerStorage implements ThrottlerStorage {
  private ready: Promise<void> | null = null;
  private swept = 0;

  constructor(
    private readonly pool: Pool,
    private readonly options: { sweepEveryHits?: number } = {},
  ) {}

  /** Creates the table (migration scope `platform.throttle`); called once, lazily. */
  ensureSchema(): Promise<void> {
    this.ready ??= runMigrations(
      pgTransactions(this.pool),
      'platform.throttle',
      THROTTLE_MIGRATIONS,
    )
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = null;
        throw error;
      });
    return this.ready;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottleRecord> {
    await this.ensureSchema();
    const { rows } = await this.pool.query<{ hits: number; expires_in_ms: string; blocked_in_ms: string | null }>(
      `WITH t0 AS (SELECT clock_timestamp() AS now)
       INSERT INTO ${THROTTLE_TABLE} AS t (key, throttler, hits, expires_at, blocked_until)
       SELECT $1, $2, 1, t0.now + make_interval(secs => $3::double precision / 1000),
              CASE WHEN 1 > $4 THEN t0.now + make_interval(secs => $5::double precision / 1000) END
         FROM t0
       ON CONFLICT (key, throttler) DO UPDATE SET
         hits = CASE
           WHEN t.expires_at <= clock_timestamp() AND (t.blocked_until IS NULL OR t.blocked_until <= clock_timestamp()) THEN 1
           WHEN t.blocked_until IS NOT NULL AND t.blocked_until <= clock_timestamp() THEN 1
           WHEN t.blocked_until > clock_timestamp() THEN t.hits
           ELSE t.hits + 1 END,
         expires_at = CASE
           WHEN t.expires_at <= clock_timestamp() OR (t.blocked_until IS NOT NULL AND t.blocked_until <= clock_timestamp()) THEN EXCLUDED.expires_at
           ELSE t.expires_at END,
         blocked_until = CASE
           WHEN t.blocked_until > clock_timestamp() THEN t.blocked_until
           WHEN t.expires_at <= clock_timestamp() OR t.blocked_until IS NOT NULL THEN EXCLUDED.blocked_until
           WHEN t.hits + 1 > $4 THEN clock_timestamp() + make_interval(secs => $5::double precision / 1000)
           ELSE NULL END
       RETURNING hits,
         (extract(epoch FROM (expires_at - clock_timestamp())) * 1000)::bigint AS expires_in_ms,
         (extract(epoch FROM (blocked_until - clock_timestamp())) * 1000)::bigint AS blocked_in_ms`,
      [key, throttlerName, ttl, limit, blockDuration],
    );
    const row = rows[0];
    const blockedMs = row.blocked_in_ms === null ? 0 : Number(row.blocked_in_ms);
    const isBlocked = blockedMs > 0;
    if (++this.swept >= (this.options.sweepEveryHits ?? 1000)) {
      this.swept = 0;
      void this.sweep().catch(() => undefined);
    }
    return {
      totalHits: row.hits,
      timeToExpire: Math.max(0, Math.ceil(Number(row.expires_in_ms) / 1000)),
      isBlocked,
      // Retry-After is whole seconds; at least 1 while blocked.
      timeToBlockExpire: isBlocked ? Math.max(1, Math.ceil(blockedMs / 1000)) : 0,
    };
  }

  /** Drops counters whose window and block are both over (keeps the table small). */
  async sweep(): Promise<number> {
    await this.ensureSchema();
    const r = await this.pool.query(
      `DELETE FROM ${THROTTLE_TABLE} WHERE expires_at < clock_timestamp() AND (blocked_until IS NULL OR blocked_until < clock_timestamp())`,
    );
    return r.rowCount ?? 0;
  }
}
