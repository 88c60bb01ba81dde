/**
 * The one migration runner of every service database (ADR 0020). Its core lives in libs/eventstore
 * (libs/eventstore/src/postgres/migration-runner.ts) so the event store's own schema goes through the
 * same checksummed, advisory-locked runner without libs/eventstore importing libs/platform (platform
 * depends on eventstore). Re-exported here unchanged: services keep importing it from '@flowline/platform'.
 */
export {
  MIGRATIONS_LOCK_SQL,
  MIGRATIONS_TABLE,
  MigrationChecksumMismatch,
  checkMigrationList,
  migrationChecksum,
  runMigrations,
  type Migration,
  type MigrationQueryable,
  type MigrationResult,
  type MigrationTransactions,
  type RunMigrationsOptions,
} from '@flowline/eventstore';
