import { spawn } from 'node:child_process';
import { messagingMigrations } from '@flowline/messaging';
import { MigrationChecksumMismatch, MIGRATIONS_TABLE, migrationChecksum } from '@flowline/platform';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryMigrations, migrateInventory, migrateInventoryDatabase } from '../src/infra/inventory-schema';

// Issue #18: inventory's schema through the versioned migration runner. A database made by the
// old boot-time DDL is adopted as v1; replicas booting together record each version once; an
// edited released migration refuses to start; `main.ts migrate` migrates and exits.

const records = async (pool: Pool) =>
  (await pool.query(`SELECT scope, version, checksum FROM ${MIGRATIONS_TABLE} ORDER BY scope, version`)).rows;

describe('inventory migrations (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('inventory_migrations');
    pool = new Pool({ connectionString: db.url, max: 8 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('adopts a database made by the old boot DDL and records inventory + messaging once across concurrent boots', async () => {
    // A database of the older runner: versions recorded in inventory.schema_migrations, and an
    // operator removed a seeded warehouse since (adoption must not seed it back).
    await pool.query(`CREATE SCHEMA inventory`);
    await pool.query(`CREATE TABLE inventory.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    await pool.query(`INSERT INTO inventory.schema_migrations (version, name) VALUES (1, 'v1'), (2, 'v2'), (3, 'v3')`);
    for (const m of inventoryMigrations()) for (const sql of m.statements) await pool.query(sql);
    await pool.query(`INSERT INTO inventory.warehouse (warehouse_id, name, priority) VALUES ('WH-X', 'x', 9)`);
    await pool.query(`DELETE FROM inventory.warehouse WHERE warehouse_id IN ('WH-SH', 'WH-GZ', 'WH-BJ')`);
    await Promise.all([1, 2, 3].map(() => migrateInventoryDatabase(pool)));
    expect(await records(pool)).toEqual([
      ...inventoryMigrations().map((m) => ({ scope: 'inventory', version: m.version, checksum: migrationChecksum(m) })),
      ...messagingMigrations().map((m) => ({ scope: 'messaging', version: m.version, checksum: migrationChecksum(m) })),
    ]);
    expect((await pool.query(`SELECT warehouse_id FROM inventory.warehouse`)).rows).toEqual([{ warehouse_id: 'WH-X' }]);
    expect((await pool.query(`SELECT to_regclass('messaging_inbox') AS inbox, to_regclass('eventstore.events') AS events`)).rows[0]).toEqual({ inbox: 'messaging_inbox', events: 'eventstore.events' });
  });

  it('refuses to start when a released migration was edited (checksum differs)', async () => {
    await pool.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = 'edited' WHERE scope = 'inventory' AND version = 1`);
    try {
      await expect(migrateInventory(pool)).rejects.toBeInstanceOf(MigrationChecksumMismatch);
    } finally {
      await pool.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = $1 WHERE scope = 'inventory' AND version = 1`, [migrationChecksum(inventoryMigrations()[0])]);
    }
  });

  it('`main.ts migrate` migrates a fresh database (every scope) and exits 0 without listening', async () => {
    const fresh = await createTestDatabase('inventory_migrate_only');
    const freshPool = new Pool({ connectionString: fresh.url, max: 2 });
    try {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/inventory/src/main.ts', 'migrate'], {
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
        ...inventoryMigrations().map((m) => `inventory@${m.version}`),
        ...messagingMigrations().map((m) => `messaging@${m.version}`),
      ]);
      expect((await freshPool.query(`SELECT count(*)::int AS n FROM eventstore.flowline_schema_migrations`)).rows[0].n).toBeGreaterThan(0);
      // A new database gets the seeded warehouses.
      expect((await freshPool.query(`SELECT warehouse_id FROM inventory.warehouse ORDER BY priority`)).rows.map((r) => r.warehouse_id)).toEqual(['WH-SH', 'WH-GZ', 'WH-BJ']);
    } finally {
      await freshPool.end();
      await fresh.drop();
    }
  }, 120_000);
});
