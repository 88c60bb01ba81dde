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
 * Runs DDL that concurrent processes may run at the same moment: `CREATE TABLE IF NOT EXISTS`
 * is not race-free in PostgreSQL (unique_violation on pg_type), so losing the race is ignored.
 */
export async function createIfMissing(db: SqlQueryable, ddl: string): Promise<void> {
  try {
    await db.query(ddl);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw e;
  }
}
