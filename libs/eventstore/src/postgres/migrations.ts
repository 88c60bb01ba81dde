import type { Pool } from 'pg';
import { runMigrations, type Migration, type MigrationResult, type MigrationTransactions } from './migration-runner';

/** Default schema holding the event store's tables in a service's database. */
export const DEFAULT_SCHEMA = 'eventstore';

/** Scope of the event store's migrations in `<schema>.flowline_schema_migrations`. */
export const EVENT_STORE_MIGRATION_SCOPE = 'eventstore';

/**
 * Versioned, forward-only migrations, run by the one checksummed runner (./migration-runner, ADR 0020).
 * Each runs once per schema, recorded with its checksum in `<schema>.flowline_schema_migrations`
 * (scope `eventstore`). FROZEN: the SQL text of a shipped version is never edited (the runner
 * refuses to start on a changed checksum); add the next version instead.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql(schema: string): string }> = [
  {
    version: 1,
    name: 'events table ordered by (transaction_id, global_position)',
    sql: (s) => `
      CREATE TABLE ${s}.events (
        -- LogPosition.prepare: allocated at insert, so it does NOT follow commit order.
        global_position bigserial PRIMARY KEY,
        -- LogPosition.commit: the writing transaction's 64-bit id. Readers only see rows whose
        -- transaction is older than every transaction still running (see ADR 0003).
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       text        NOT NULL,
        stream_position bigint      NOT NULL CHECK (stream_position >= 0),
        event_id        text        NOT NULL,
        event_type      text        NOT NULL,
        schema_version  integer     NOT NULL DEFAULT 1,
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_position_key UNIQUE (stream_id, stream_position),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
      );
      CREATE INDEX events_log_order_idx ON ${s}.events (transaction_id, global_position);
    `,
  },
  {
    version: 2,
    name: 'notify subscribers when events are inserted',
    sql: (s) => `
      CREATE FUNCTION ${s}.notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Delivered at commit, once per transaction (identical payloads are folded). Only a
        -- wake-up for polling subscribers; correctness never depends on it.
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_events', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_notify AFTER INSERT ON ${s}.events
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_events();
    `,
  },
  {
    version: 3,
    name: 'drop the NOTIFY trigger: NOTIFY serialises the commits of every notifying transaction in the cluster',
    // PostgreSQL holds a cluster-wide lock from a notifying transaction's pre-commit until after
    // its commit record is flushed (async.c, PreCommit_Notify), which cut single-event append
    // throughput by 2x to 5x in bench/workloads/eventstore.ts. The store now wakes subscriptions in its own
    // process directly and NOTIFYs only when created with { notify: true }.
    sql: (s) => `
      DROP TRIGGER IF EXISTS events_notify ON ${s}.events;
      DROP FUNCTION IF EXISTS ${s}.notify_events();
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Validates and double-quotes a schema name (lower-case identifiers only, no injection). */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,55}$/.test(schema)) throw new RangeError(`invalid event store schema name: ${schema}`);
  return `"${schema}"`;
}

/** LISTEN/NOTIFY channel of a schema's event store. */
export function notifyChannel(schema: string): string {
  return `${schema}_events`;
}

/** The event store's migrations for one schema, in the runner's shape (the checksum covers the schema name). */
export function eventStoreMigrations(schema: string = DEFAULT_SCHEMA): Migration[] {
  const s = quoteSchema(schema);
  return MIGRATIONS.map((m) => ({ version: m.version, name: m.name, statements: [m.sql(s)] }));
}

/** A pg pool's transactions for the runner (libs/messaging's pgTransactions is out of reach: it depends on this lib). */
function poolTransactions(pool: Pool): MigrationTransactions {
  return {
    async run(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/**
 * Creates or upgrades the event store schema through the checksummed runner: one transaction under
 * the database's migration advisory lock (`hashtext('flowline.migrations')`), so it is safe from
 * several processes at once. A schema migrated by the older runner (versions in
 * `<schema>.schema_migrations`, no checksum) is adopted on the first run: its versions are
 * recorded with the code's checksum and not run again; the old table is kept and never written
 * (an older build rolled back still reads it). Returns the whole result.
 */
export async function migrateEventStoreSchema(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<MigrationResult> {
  const s = quoteSchema(schema);
  return runMigrations(poolTransactions(pool), EVENT_STORE_MIGRATION_SCOPE, eventStoreMigrations(schema), {
    schema,
    adopt: async (tx) => {
      const legacy = await tx.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${s}.schema_migrations`]);
      const rows = (Array.isArray(legacy) ? legacy : legacy.rows) as Array<{ present: boolean }>;
      if (!rows[0]?.present) return [];
      const versions = await tx.query(`SELECT version FROM ${s}.schema_migrations ORDER BY version`);
      return ((Array.isArray(versions) ? versions : versions.rows) as Array<{ version: number }>).map((r) => Number(r.version));
    },
  });
}

/** Creates or upgrades the event store schema (see migrateEventStoreSchema). Returns the versions it applied. */
export async function migrate(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<number[]> {
  return (await migrateEventStoreSchema(pool, schema)).applied;
}
