import type { Pool } from 'pg';

/** Default schema holding the event store's tables in a service's database. */
export const DEFAULT_SCHEMA = 'eventstore';

/**
 * Versioned, forward-only migrations. Each runs once per schema, recorded in
 * `<schema>.schema_migrations`; never edit one that has shipped, add the next version.
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

/**
 * Creates or upgrades the event store schema. Idempotent and safe to run from several processes
 * at once (an advisory lock serialises them). Returns the versions it applied.
 */
export async function migrate(pool: Pool, schema: string = DEFAULT_SCHEMA): Promise<number[]> {
  const s = quoteSchema(schema);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`flowline.eventstore.migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
