import { pgTransactions } from '@flowline/messaging';
import { MIGRATIONS_TABLE, migrationChecksum } from '@flowline/platform';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTrackingSchema, TRACKING_SCHEMA, trackingMigrations, trackingSchemaDdl } from '../src/infra/tracking-schema';

// Tracking's live schema through the versioned migration runner (issue #18): a database created
// before migrations existed is adopted as version 1; replicas booting together apply it once.

describe('tracking schema migrations (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const tables = async (schema: string) =>
    (await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])).rows.map((r) => r.table_name);

  beforeAll(async () => {
    db = await createTestDatabase('tracking_migrations');
    pool = new Pool({ connectionString: db.url, max: 8 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('adopts a schema made by the old boot-time DDL, then records version 1 once across concurrent boots', async () => {
    // The old way: the DDL run at boot, no record.
    for (const sql of trackingSchemaDdl(TRACKING_SCHEMA)) await pool.query(sql);
    await pool.query(`INSERT INTO "tracking"."meta" (key, value) VALUES ('kept', '1')`);
    await Promise.all([1, 2, 3].map(() => ensureTrackingSchema(pgTransactions(pool), TRACKING_SCHEMA)));
    const rows = (await pool.query(`SELECT scope, version, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`)).rows;
    // Version 1 adopted, later ones applied: each recorded once.
    expect(rows).toEqual(trackingMigrations(TRACKING_SCHEMA).map((m) => ({ scope: 'tracking', version: m.version, checksum: migrationChecksum(m) })));
    expect((await pool.query(`SELECT value FROM "tracking"."meta" WHERE key = 'kept'`)).rows).toEqual([{ value: 1 }]);
    expect(await tables(TRACKING_SCHEMA)).toEqual(['checkpoint', 'inbox', 'meta', 'order_summary', 'stage_visit', 'timeline_entry']);
  });

  it('a rebuild schema gets the same tables without a record of its own', async () => {
    await ensureTrackingSchema(pgTransactions(pool), 'tracking_rb_mig');
    expect(await tables('tracking_rb_mig')).toEqual(await tables(TRACKING_SCHEMA));
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${MIGRATIONS_TABLE}`)).rows[0].n).toBe(trackingMigrations(TRACKING_SCHEMA).length);
  });
});
