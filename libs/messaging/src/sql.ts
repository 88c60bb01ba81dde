import { createHash } from 'node:crypto';
/** Validates and quotes a (optionally schema-qualified) table name taken from configuration. */
export function quoteTable(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/i.test(name)) {
    throw new Error(`invalid table name "${name}": use letters, digits and _ (optionally schema.table)`);
  }
  return name
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

/** Minimal query surface shared by pg clients, pools and TypeORM adapters. */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  /**
   * The same as `query`, as a named (prepared) statement on the transaction's connection: parsed
   * and planned once per connection, then reused. Offered by pgTransactions and
   * typeormTransactions; call it through {@link queryPrepared}, which falls back to `query`.
   * PostgreSQL re-plans a prepared statement after DDL on what it uses (a schema rename included:
   * tracking's swap is tested in services/tracking/test/projection-batch.int-spec.ts).
   */
  queryPrepared?(sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

const statementNames = new Map<string, string>();

/** A pg QueryConfig naming the statement after its text (one text, one name, in every connection). */
export function namedStatement(text: string, values: unknown[] = []): { name: string; text: string; values: unknown[] } {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `flowline_q_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/** Runs `sql` as a prepared statement when the transaction offers it, else as a plain query. */
export function queryPrepared(db: SqlQueryable, sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }> {
  return db.queryPrepared ? db.queryPrepared(sql, params) : db.query(sql, params);
}

/**
 * The advisory lock every schema change in a service database takes (libs/platform runMigrations
 * takes the same one): DDL run under it never races another process's DDL.
 */
export const MIGRATION_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('flowline.migrations'))`;

/**
 * Runs `CREATE ... IF NOT EXISTS` DDL that concurrent processes may run at the same moment.
 * `CREATE TABLE IF NOT EXISTS` alone is not race-free in PostgreSQL (unique_violation on pg_type),
 * so the DDL runs after the migrations' advisory lock in ONE simple-protocol query (one implicit
 * transaction: the transaction-scoped lock is held until the DDL commits); a second process waits
 * and then finds the table. The tables are normally created earlier by the service's `messaging`
 * migrations (messagingMigrations); this keeps a library user without them working.
 */
export async function createIfMissing(db: SqlQueryable, ddl: string): Promise<void> {
  await db.query(`${MIGRATION_LOCK_SQL}; ${ddl}`);
}
