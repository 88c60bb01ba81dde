export * from './port';
export { InMemoryEventStore } from './in-memory/in-memory-event-store';
export { PostgresEventStore, OutOfOrderAppend, type PostgresEventStoreOptions, type SqlClient } from './postgres/postgres-event-store';
export { migrate, DEFAULT_SCHEMA, LATEST_SCHEMA_VERSION } from './postgres/migrations';
export { APPEND_LATENCY_METRIC, appendLatencyHistogram } from './telemetry';
