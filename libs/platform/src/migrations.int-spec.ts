import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE, MigrationChecksumMismatch, runMigrations, type Migration, type MigrationTransactions } from './migrations';

// The migration runner against a real PostgreSQL: order, checksums, all-or-nothing, concurrency.

function pgTx(pool: Pool): MigrationTransactions {
  return {
    async run(fn) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
  };
}

const V1: Migration = { version: 1, name: 'create items', statements: ['CREATE TABLE items (id text PRIMARY KEY)'] };
const V2: Migration = { version: 2, name: 'add qty', statements: ['ALTER TABLE items ADD COLUMN qty integer NOT NULL DEFAULT 0', 'CREATE INDEX items_qty ON items (qty)'] };
const V3: Migration = { version: 3, name: 'add note', statements: ['ALTER TABLE items ADD COLUMN note text'] };

describe('runMigrations (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const columns = async () =>
    (await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);

  beforeAll(async () => {
    db = await createTestDatabase('platform_migrations');
    pool = new Pool({ connectionString: db.url, max: 6 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('applies in order once, even with several runners at the same moment, and records each with its checksum', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => runMigrations(pgTx(pool), 'demo', [V1, V2])));
    expect(results.filter((r) => r.applied.length > 0)).toEqual([{ applied: [1, 2], alreadyApplied: [], ahead: [] }]);
    expect(results.filter((r) => r.applied.length === 0)).toHaveLength(3);
    expect(await columns()).toEqual(['id', 'qty']);
    const rows = (await pool.query(`SELECT version, name, length(checksum) AS n FROM ${MIGRATIONS_TABLE} WHERE scope = 'demo' ORDER BY version`)).rows;
    expect(rows).toEqual([
      { version: 1, name: 'create items', n: 64 },
      { version: 2, name: 'add qty', n: 64 },
    ]);
    expect(await runMigrations(pgTx(pool), 'demo', [V1, V2, V3])).toEqual({ applied: [3], alreadyApplied: [1, 2], ahead: [] });
    expect(await columns()).toEqual(['id', 'qty', 'note']);
  });

  it('refuses a released migration that was edited, and a list with a gap', async () => {
    const edited = { ...V2, statements: ['ALTER TABLE items ADD COLUMN qty bigint NOT NULL DEFAULT 0'] };
    await expect(runMigrations(pgTx(pool), 'demo', [V1, edited, V3])).rejects.toBeInstanceOf(MigrationChecksumMismatch);
    await expect(runMigrations(pgTx(pool), 'demo', [V1, V3])).rejects.toThrow(/expected version 2/);
  });

  it('a failing migration leaves nothing behind; older code on a newer schema is reported, not refused', async () => {
    const bad: Migration = { version: 4, name: 'broken', statements: ['ALTER TABLE items ADD COLUMN extra integer', 'ALTER TABLE no_such_table ADD COLUMN x integer'] };
    await expect(runMigrations(pgTx(pool), 'demo', [V1, V2, V3, bad])).rejects.toThrow(/no_such_table/);
    expect(await columns()).toEqual(['id', 'qty', 'note']);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${MIGRATIONS_TABLE} WHERE scope = 'demo'`)).rows[0].n).toBe(3);
    expect(await runMigrations(pgTx(pool), 'demo', [V1, V2])).toEqual({ applied: [], alreadyApplied: [1, 2], ahead: [3] });
    // Scopes are independent.
    expect(await runMigrations(pgTx(pool), 'other', [{ version: 1, name: 'x', statements: ['CREATE TABLE other_x (id int)'] }])).toEqual({ applied: [1], alreadyApplied: [], ahead: [] });
  });
});
