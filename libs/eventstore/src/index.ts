// The event store port and its adapters. The contract suite imports vitest, so it is not
// exported here: tests import it from 'libs/eventstore/src/testing/event-store-contract'.
export * from './port';
export { InMemoryEventStore } from './in-memory/in-memory-event-store';
export { PostgresEventStore, OutOfOrderAppend, type PostgresEventStoreOptions, type SqlClient, type StreamAppend } from './postgres/postgres-event-store';
export { migrate, DEFAULT_SCHEMA, LATEST_SCHEMA_VERSION } from './postgres/migrations';
export { guardPool } from './postgres/pool-guard';
export { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
export { APPEND_LATENCY_METRIC, appendLatencyHistogram } from './telemetry';
