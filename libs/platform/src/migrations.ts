import { createHash } from 'node:crypto';

/**
 * Versioned, forward-only, checksummed schema migrations for a service database.
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
}

export class MigrationChecksumMismatch extends Error {
  constructor(
    readonly scope: string,
    readonly version: number,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`migration ${scope} v${version} was changed after it was applied (database ${actual.slice(0, 12)}, code ${expected.slice(0, 12)}): add a new migration instead`);
    this.name = 'MigrationChecksumMismatch';
  }
}

export const MIGRATIONS_TABLE = 'flowline_schema_migrations';

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

const rowsOf = (r: { rows: unknown[] } | unknown[]): Record<string, unknown>[] => (Array.isArray(r) ? r : r.rows) as Record<string, unknown>[];

export async function runMigrations(transactions: MigrationTransactions, scope: string, migrations: readonly Migration[]): Promise<MigrationResult> {
  checkMigrationList(scope, migrations);
  return transactions.run(async (tx) => {
    // One lock for the database (not per scope): CREATE TABLE IF NOT EXISTS of the bookkeeping
    // table is not race-free, and migrations of two scopes never need to run at the same moment.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flowline.migrations'))`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
         scope text NOT NULL,
         version integer NOT NULL,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (scope, version)
       )`,
    );
    const recorded = new Map(
      rowsOf(await tx.query(`SELECT version, checksum FROM ${MIGRATIONS_TABLE} WHERE scope = $1`, [scope])).map((r) => [Number(r.version), String(r.checksum)]),
    );
    const result: MigrationResult = { applied: [], alreadyApplied: [], ahead: [] };
    for (const m of migrations) {
      const checksum = migrationChecksum(m);
      const stored = recorded.get(m.version);
      if (stored !== undefined) {
        if (stored !== checksum) throw new MigrationChecksumMismatch(scope, m.version, checksum, stored);
        result.alreadyApplied.push(m.version);
        continue;
      }
      for (const sql of m.statements) await tx.query(sql);
      await tx.query(`INSERT INTO ${MIGRATIONS_TABLE} (scope, version, name, checksum) VALUES ($1, $2, $3, $4)`, [scope, m.version, m.name, checksum]);
      result.applied.push(m.version);
    }
    result.ahead = [...recorded.keys()].filter((v) => v > migrations.length).sort((a, b) => a - b);
    return result;
  });
}
