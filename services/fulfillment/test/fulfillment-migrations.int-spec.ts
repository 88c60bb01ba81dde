import { spawn } from 'node:child_process';
import { messagingMigrations } from '@flowline/messaging';
import { MigrationChecksumMismatch, MIGRATIONS_TABLE, migrationChecksum } from '@flowline/platform';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULFILLMENT_SCHEMA, fulfillmentMigrations, migrateFulfillment } from '../src/infra/fulfillment-schema';

// Issue #18: fulfillment's schema through the versioned migration runner. A database made by the
// old boot-time DDL is adopted as v1; replicas booting together record each version once; an
// edited released migration refuses to start; `main.ts migrate` migrates and exits.

const records = async (pool: Pool) =>
  (await pool.query(`SELECT scope, version, checksum FROM ${MIGRATIONS_TABLE} ORDER BY scope, version`)).rows;

describe('fulfillment migrations (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('fulfillment_migrations');
    pool = new Pool({ connectionString: db.url, max: 8 });
    // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing (CI saw 57P01 uncaught).
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('adopts a database made by the old boot DDL and records fulfillment + messaging once across concurrent boots', async () => {
    await pool.query(FULFILLMENT_SCHEMA);
    await pool.query(`INSERT INTO http_idempotency (key, request_hash) VALUES ('kept', 'h')`);
    await Promise.all([1, 2, 3].map(() => migrateFulfillment(pool)));
    expect(await records(pool)).toEqual([
      ...fulfillmentMigrations().map((m) => ({ scope: 'fulfillment', version: m.version, checksum: migrationChecksum(m) })),
      ...messagingMigrations().map((m) => ({ scope: 'messaging', version: m.version, checksum: migrationChecksum(m) })),
    ]);
    expect((await pool.query(`SELECT key FROM http_idempotency`)).rows).toEqual([{ key: 'kept' }]);
    expect((await pool.query(`SELECT to_regclass('messaging_inbox') AS inbox, to_regclass('eventstore.events') AS events`)).rows[0]).toEqual({ inbox: 'messaging_inbox', events: 'eventstore.events' });
  });

  it('refuses to start when a released migration was edited (checksum differs)', async () => {
    await pool.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = 'edited' WHERE scope = 'fulfillment' AND version = 1`);
    try {
      await expect(migrateFulfillment(pool)).rejects.toBeInstanceOf(MigrationChecksumMismatch);
    } finally {
      await pool.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = $1 WHERE scope = 'fulfillment' AND version = 1`, [migrationChecksum(fulfillmentMigrations()[0])]);
    }
  });

  it('`main.ts migrate` migrates a fresh database (every scope) and exits 0 without listening', async () => {
    const fresh = await createTestDatabase('fulfillment_migrate_only');
    const freshPool = new Pool({ connectionString: fresh.url, max: 2 });
    freshPool.on('error', () => undefined);
    try {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/fulfillment/src/main.ts', 'migrate'], {
        cwd: process.cwd(),
        // Ports nobody should bind: a listener would show as a hang (the test waits for exit).
        env: { ...process.env, DATABASE_URL: fresh.url, HTTP_PORT: '1', GRPC_PORT: '2', OTEL_SDK_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('migrate-only done');
      expect((await records(freshPool)).map((r) => `${r.scope}@${r.version}`)).toEqual([
        ...fulfillmentMigrations().map((m) => `fulfillment@${m.version}`),
        ...messagingMigrations().map((m) => `messaging@${m.version}`),
      ]);
      expect((await freshPool.query(`SELECT count(*)::int AS n FROM eventstore.flowline_schema_migrations`)).rows[0].n).toBeGreaterThan(0);
    } finally {
      await freshPool.end();
      await fresh.drop();
    }
  }, 120_000);
});
