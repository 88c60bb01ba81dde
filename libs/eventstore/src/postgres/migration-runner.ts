import { createHash } from 'node:crypto';

/**
 * Versioned, forward-only, checksummed schema migrations for a service database (ADR 0020).
 *
 * The runner lives here, in libs/eventstore, because the event store's own schema goes through it
 * and libs/platform depends on libs/eventstore (not the other way round); libs/platform re-exports
 * it unchanged, so services keep importing it from '@flowline/platform'.
 *
 * A service lists its migrations (version 1, 2, 3 ... without gaps, never edited once released)
 * and calls `runMigrations` at boot or from a pre-rollout Job. In ONE transaction, under a
 * transaction-scoped advisory lock (replicas starting together wait for each other):
 * the bookkeeping table `flowline_schema_migrations` is created if missing, the checksum
 * (sha256 of the statements) of every applied migration is compared with the code's, and the
 * missing ones run in order and are recorded. PostgreSQL DDL is transactional, so a failing
 * migration leaves nothing behind (no half-applied schema, no record). Statements that cannot run
 * in a transaction (CREATE INDEX CONCURRENTLY) do not belong here.
 *
 * - A changed released migration -> MigrationChecksumMismatch: the service refuses to start (write
 *   a new migration instead).
 * - Versions in the database the code does not know (a rollback to an older build after a newer one
 *   migrated) are reported in `ahead`, not refused: migrations are expand-only, so older code works
 *   on the newer schema (contract steps come in a later release, once no old build runs).
 */
export interface Migration {
  version: number;
  name: string;
  /** The SQL statements, run in order. */
  statements: readonly string[];
}

export interface MigrationQueryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- driver rows (pg / TypeORM)
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] } | any[]>;
}

export interface MigrationTransactions {
  run<T>(fn: (tx: MigrationQueryable) => Promise<T>): Promise<T>;
}

export interface MigrationResult {
  applied: number[];
  alreadyApplied: number[];
  /** Versions recorded in the database that this code does not have. */
  ahead: number[];
  /** Versions an older runner had applied, recorded now with the code's checksum and not run again (`adopt`). */
  adopted?: number[];
}

export interface RunMigrationsOptions {
  /**
   * Schema holding this scope's bookkeeping table (created with it if missing). Default: none, the
   * table is `flowline_schema_migrations` on the connection's search_path (public). The event store
   * keeps its record inside its own schema, so a store schema carries its own history.
   */
  schema?: string;
  /**
   * Versions an older runner applied and recorded elsewhere (read under the lock, only while this
   * scope has no record yet): they are recorded with the code's checksum without running again.
   * Versions the code does not know are ignored.
   */
  adopt?: (tx: MigrationQueryable) => Promise<number[]>;
}

export class MigrationChecksumMismatch extends Error {
  constructor(
    readonly scope: string,
    readonly version: number,
    readonly expected: string,
    readonly actual: string,
    readonly migrationName?: string,
  ) {
    super(
      `migration ${scope} v${version}${migrationName ? ` ("${migrationName}")` : ''} was changed after it was applied (database ${actual.slice(0, 12)}, code ${expected.slice(0, 12)}): add a new migration instead`,
    );
    this.name = 'MigrationChecksumMismatch';
  }
}

export const MIGRATIONS_TABLE = 'flowline_schema_migrations';

/** The advisory lock every schema change in a service database takes (one per database, not per scope). */
export const MIGRATIONS_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('flowline.migrations'))`;

export function migrationChecksum(m: Pick<Migration, 'statements'>): string {
  const h = createHash('sha256');
  for (const s of m.statements) h.update(s.trim()).update('\n;\n');
  return h.digest('hex');
}

/** Throws unless versions are 1..n in order, each with a name and at least one statement. */
export function checkMigrationList(scope: string, migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations of ${scope}: expected version ${i + 1} at position ${i}, found ${m.version}`);
    if (!m.name.trim() || m.statements.length === 0) throw new Error(`migration ${scope} v${m.version}: name and statements required`);
  });
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,55}$/.test(name)) throw new RangeError(`invalid schema name for migrations: ${name}`);
  return `"${name}"`;
}

const rowsOf = (r: { rows: unknown[] } | unknown[]): Record<string, unknown>[] => (Array.isArray(r) ? r : r.rows) as Record<string, unknown>[];

export async function runMigrations(
  transactions: MigrationTransactions,
  scope: string,
  migrations: readonly Migration[],
  options: RunMigrationsOptions = {},
): Promise<MigrationResult> {
  checkMigrationList(scope, migrations);
  const schema = options.schema === undefined ? undefined : quoteIdentifier(options.schema);
  const table = schema ? `${schema}.${MIGRATIONS_TABLE}` : MIGRATIONS_TABLE;
  return transactions.run(async (tx) => {
    // One lock for the database (not per scope): CREATE TABLE IF NOT EXISTS of the bookkeeping
    // table is not race-free, and migrations of two scopes never need to run at the same moment.
    await tx.query(MIGRATIONS_LOCK_SQL);
    if (schema) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         scope text NOT NULL,
         version integer NOT NULL,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (scope, version)
       )`,
    );
    const recorded = new Map(
      rowsOf(await tx.query(`SELECT version, checksum FROM ${table} WHERE scope = $1`, [scope])).map((r) => [Number(r.version), String(r.checksum)]),
    );
    const result: MigrationResult = { applied: [], alreadyApplied: [], ahead: [] };
    if (recorded.size === 0 && options.adopt) {
      const known = new Set(migrations.map((m) => m.version));
      const adopted = [...new Set(await options.adopt(tx))].filter((v) => known.has(v)).sort((a, b) => a - b);
      for (const version of adopted) {
        const m = migrations[version - 1];
        const checksum = migrationChecksum(m);
        await tx.query(`INSERT INTO ${table} (scope, version, name, checksum) VALUES ($1, $2, $3, $4)`, [scope, m.version, m.name, checksum]);
        recorded.set(version, checksum);
      }
      if (adopted.length > 0) result.adopted = adopted;
    }
    for (const m of migrations) {
      const checksum = migrationChecksum(m);
      const stored = recorded.get(m.version);
      if (stored !== undefined) {
        if (stored !== checksum) throw new MigrationChecksumMismatch(scope, m.version, checksum, stored, m.name);
        if (!result.adopted?.includes(m.version)) result.alreadyApplied.push(m.version);
        continue;
      }
      for (const sql of m.statements) await tx.query(sql);
      await tx.query(`INSERT INTO ${table} (scope, version, name, checksum) VALUES ($1, $2, $3, $4)`, [scope, m.version, m.name, checksum]);
      result.applied.push(m.version);
    }
    result.ahead = [...recorded.keys()].filter((v) => v > migrations.length).sort((a, b) => a - b);
    return result;
  });
}
