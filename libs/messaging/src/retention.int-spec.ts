import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneTable, retentionFromEnv } from './retention';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase('msg_retention');
  pool = new Pool({ connectionString: db.url, max: 2 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('retention', () => {
  it('prunes rows older than the rule (in batches) and keeps the younger ones', async () => {
    await pool.query('CREATE TABLE idempotency_keys (key text PRIMARY KEY, created_at timestamptz NOT NULL)');
    await pool.query(`INSERT INTO idempotency_keys SELECT 'old-' || g, now() - interval '8 days' FROM generate_series(1, 25) g`);
    await pool.query(`INSERT INTO idempotency_keys SELECT 'new-' || g, now() - interval '6 days' FROM generate_series(1, 5) g`);
    expect(await pruneTable(pool, { table: 'idempotency_keys', column: 'created_at', days: 7 }, new Date(), 10)).toBe(25);
    const left = await pool.query<{ key: string }>('SELECT key FROM idempotency_keys ORDER BY key');
    expect(left.rows.map((r) => r.key)).toEqual(['new-1', 'new-2', 'new-3', 'new-4', 'new-5']);
  });

  it('defaults: 30 days of inbox, 7 of idempotency keys, hourly; configurable', () => {
    expect(retentionFromEnv({})).toEqual({ inboxDays: 30, idempotencyDays: 7, intervalMs: 3_600_000 });
    expect(retentionFromEnv({ INBOX_RETENTION_DAYS: '14', IDEMPOTENCY_RETENTION_DAYS: '2', RETENTION_INTERVAL_MS: '0' })).toEqual({ inboxDays: 14, idempotencyDays: 2, intervalMs: 0 });
    expect(() => retentionFromEnv({ INBOX_RETENTION_DAYS: '-1' })).toThrow(/INBOX_RETENTION_DAYS/);
  });
});
