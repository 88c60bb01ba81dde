import { guardPool } from '@flowline/eventstore';

/** A service's own pg Pool gets the same guard as the event store's (see `guardPool`). */
export { guardPool };
import { Client, type Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { databaseNameOf, redactUrl } from './config';

/** PostgreSQL error codes met when two processes create the same database at once. */
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/** Quotes an identifier for SQL (doubles embedded quotes). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the database named in `url` when it does not exist yet, connecting to the same server's
 * `postgres` database. Safe to run from several processes at once. Returns true when it created it.
 */
export async function ensureDatabaseExists(url: string, connectTimeoutMs = 5_000): Promise<boolean> {
  const name = databaseNameOf(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot reach PostgreSQL at ${redactUrl(admin.toString())}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Guards the pg Pool under a TypeORM DataSource once it is initialised (see `guardPool`): a lost
 * connection, idle or checked out, fails the statement instead of crashing the process.
 */
export function guardDataSource(dataSource: DataSource): DataSource {
  const initialize = dataSource.initialize.bind(dataSource);
  dataSource.initialize = async () => {
    const ds = await initialize();
    const pool = (ds.driver as unknown as { master?: Pool }).master;
    if (pool) guardPool(pool);
    return ds;
  };
  return dataSource;
}
