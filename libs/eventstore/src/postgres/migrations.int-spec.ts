import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE, MigrationChecksumMismatch, migrationChecksum, runMigrations } from './migration-runner';
import { EVENT_STORE_MIGRATION_SCOPE, eventStoreMigrations, LATEST_SCHEMA_VERSION, migrate, migrateEventStoreSchema } from './migrations';
import { PostgresEventStore } from './postgres-event-store';

// Issue #18: the event store's schema on the one checksummed runner (ADR 0020), against a real PostgreSQL:
// a fresh schema, the upgrade of a schema the older unchecksummed runner migrated (its table made by hand
// here), an edited shipped migration refused by name, concurrent runners applying once.

describe('event store migrations on the checksummed runner (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const records = async (schema: string) =>
    (await pool.query(`SELECT scope, version, name, checksum FROM "${schema}".${MIGRATIONS_TABLE} ORDER BY version`)).rows as Array<{ scope: string; version: number; name: string; checksum: string }>;
  const expectedRecords = (schema: string) =>
    eventStoreMigrations(schema).map((m) => ({ scope: EVENT_STORE_MIGRATION_SCOPE, version: m.version, name: m.name, checksum: migrationChecksum(m) }));

  beforeAll(async () => {
    db = await createTestDatabase('eventstore_migrations');
    pool = new Pool({ connectionString: db.url, max: 8 });
    pool.on('error', () => undefined); // DROP DATABASE ... FORCE at teardown ends idle clients
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('a fresh schema: every version applied once, recorded with its checksum in <schema>.flowline_schema_migrations; a second run applies nothing', async () => {
    const first = await migrateEventStoreSchema(pool, 'es_fresh');
    expect(first).toEqual({ applied: [1, 2, 3], alreadyApplied: [], ahead: [] });
    expect(await records('es_fresh')).toEqual(expectedRecords('es_fresh'));
    expect(LATEST_SCHEMA_VERSION).toBe(3);
    // No table of the older format is created any more.
    expect((await pool.query(`SELECT to_regclass('es_fresh.schema_migrations') AS t`)).rows[0].t).toBeNull();
    expect(await migrateEventStoreSchema(pool, 'es_fresh')).toEqual({ applied: [], alreadyApplied: [1, 2, 3], ahead: [] });
    const store = await PostgresEventStore.create({ pool, schema: 'es_fresh' });
    try {
      await store.appendToStream('order-fresh', [{ eventId: randomUUID(), type: 'Happened', data: {}, metadata: { correlationId: 'c', causationId: null, occurredAt: new Date(0).toISOString() } }]);
      expect(await store.readStream('order-fresh')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema the older runner migrated: its versions adopted with their checksum, not run again, data kept, old table kept unwritten', async () => {
    // The older runner's result, made by hand: the same DDL, recorded in <schema>.schema_migrations (version, name, applied_at).
    await pool.query(`CREATE SCHEMA es_legacy`);
    await pool.query(`CREATE TABLE es_legacy.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const m of eventStoreMigrations('es_legacy')) {
      for (const sql of m.statements) await pool.query(sql);
      await pool.query(`INSERT INTO es_legacy.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await pool.query(
      `INSERT INTO es_legacy.events (stream_id, stream_position, event_id, event_type, data, metadata) VALUES ('order-old', 0, 'e-old', 'Happened', '{}', '{}')`,
    );
    // v1 re-run would fail (CREATE TABLE events without IF NOT EXISTS): adoption must not run it.
    expect(await migrateEventStoreSchema(pool, 'es_legacy')).toEqual({ applied: [], alreadyApplied: [], ahead: [], adopted: [1, 2, 3] });
    expect(await records('es_legacy')).toEqual(expectedRecords('es_legacy'));
    expect(await migrateEventStoreSchema(pool, 'es_legacy')).toEqual({ applied: [], alreadyApplied: [1, 2, 3], ahead: [] });
    expect((await pool.query(`SELECT count(*)::int AS n FROM es_legacy.schema_migrations`)).rows[0].n).toBe(3);
    const store = await PostgresEventStore.create({ pool, schema: 'es_legacy' });
    try {
      expect((await store.readStream('order-old')).map((e) => e.eventId)).toEqual(['e-old']);
    } finally {
      await store.close();
    }
  });

  it('an older runner that had applied only v1 and v2: those adopted, v3 run', async () => {
    await pool.query(`CREATE SCHEMA es_partial`);
    await pool.query(`CREATE TABLE es_partial.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const m of eventStoreMigrations('es_partial').slice(0, 2)) {
      for (const sql of m.statements) await pool.query(sql);
      await pool.query(`INSERT INTO es_partial.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    const trigger = async () => (await pool.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'events_notify' AND tgrelid = 'es_partial.events'::regclass`)).rows[0].n;
    expect(await trigger()).toBe(1);
    expect(await migrateEventStoreSchema(pool, 'es_partial')).toEqual({ applied: [3], alreadyApplied: [], ahead: [], adopted: [1, 2] });
    expect(await trigger()).toBe(0);
    expect(await records('es_partial')).toEqual(expectedRecords('es_partial'));
  });

  it('refuses to start on a shipped migration that was edited, with an error naming it', async () => {
    await migrate(pool, 'es_edited');
    // Equivalent to editing v2's SQL in the code: the recorded checksum no longer matches.
    await pool.query(`UPDATE es_edited.${MIGRATIONS_TABLE} SET checksum = 'edited' WHERE scope = 'eventstore' AND version = 2`);
    const refused = await migrate(pool, 'es_edited').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MigrationChecksumMismatch);
    expect((refused as MigrationChecksumMismatch).version).toBe(2);
    expect(String(refused)).toMatch(/migration eventstore v2 \("notify subscribers when events are inserted"\) was changed after it was applied/);
    await expect(PostgresEventStore.create({ pool, schema: 'es_edited' })).rejects.toBeInstanceOf(MigrationChecksumMismatch);
    // The code side: an edited statement list against a correctly recorded schema.
    await pool.query(`UPDATE es_edited.${MIGRATIONS_TABLE} SET checksum = $1 WHERE scope = 'eventstore' AND version = 2`, [migrationChecksum(eventStoreMigrations('es_edited')[1])]);
    const edited = eventStoreMigrations('es_edited').map((m) => (m.version === 1 ? { ...m, statements: [`${m.statements[0]} -- edited`] } : m));
    const transactions = {
      run: async <T>(fn: (tx: Pool) => Promise<T>) => fn(pool),
    };
    await expect(runMigrations(transactions, EVENT_STORE_MIGRATION_SCOPE, edited, { schema: 'es_edited' })).rejects.toThrow(/migration eventstore v1 \("events table ordered by/);
    expect(await migrate(pool, 'es_edited')).toEqual([]);
  });

  it('several runners at the same moment (a fresh schema and an adopted one): each version applied or adopted exactly once', async () => {
    const fresh = await Promise.all([1, 2, 3, 4].map(() => migrateEventStoreSchema(pool, 'es_concurrent')));
    expect(fresh.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
    expect(fresh.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(await records('es_concurrent')).toEqual(expectedRecords('es_concurrent'));

    await pool.query(`CREATE SCHEMA es_concurrent_old`);
    await pool.query(`CREATE TABLE es_concurrent_old.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const m of eventStoreMigrations('es_concurrent_old')) {
      for (const sql of m.statements) await pool.query(sql);
      await pool.query(`INSERT INTO es_concurrent_old.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    const adopted = await Promise.all([1, 2, 3].map(() => migrateEventStoreSchema(pool, 'es_concurrent_old')));
    expect(adopted.flatMap((r) => r.adopted ?? []).sort()).toEqual([1, 2, 3]);
    expect(adopted.flatMap((r) => r.applied)).toEqual([]);
    expect(await records('es_concurrent_old')).toEqual(expectedRecords('es_concurrent_old'));
  });
});
