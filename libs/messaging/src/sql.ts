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
