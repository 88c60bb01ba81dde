import { createRequire } from 'node:module';
import type * as EventStoreDbModule from './eventstoredb/eventstoredb-event-store';
// The event store port and its adapters. The contract suite imports vitest, so it is not
// exported here: tests import it from 'libs/eventstore/src/testing/event-store-contract'.
export * from './port';
export { InMemoryEventStore } from './in-memory/in-memory-event-store';
export { BatchPrepared, FORCE_GENERIC_PLANS_SQL, KEYED_GENERIC_PLANS_SQL, PostgresEventStore, OutOfOrderAppend, type PostgresEventStoreOptions, type SqlClient, type StreamAppend } from './postgres/postgres-event-store';
export { migrate, migrateEventStoreSchema, eventStoreMigrations, EVENT_STORE_MIGRATION_SCOPE, DEFAULT_SCHEMA, LATEST_SCHEMA_VERSION } from './postgres/migrations';
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
} from './postgres/migration-runner';
export { guardPool } from './postgres/pool-guard';
export { escapeSqlLiteral, sqlLiteral } from './postgres/sql-literal';
// The EventStoreDB adapter is loaded on demand: its client (gRPC stubs, protobufs) would add about
// 6 MiB and 0.3 s to every service process, none of which uses it (events live in PostgreSQL).
export type { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
/** Loads the EventStoreDB adapter: `const { EventStoreDbEventStore } = await loadEventStoreDbAdapter()`. */
export function loadEventStoreDbAdapter(): Promise<typeof EventStoreDbModule> {
  return Promise.resolve().then(() => createRequire(__filename)('./eventstoredb/eventstoredb-event-store') as typeof EventStoreDbModule);
}
export { APPEND_LATENCY_METRIC, appendLatencyHistogram } from './telemetry';
