export * from './port';
export { InMemoryEventStore } from './in-memory/in-memory-event-store';
export { APPEND_LATENCY_METRIC, appendLatencyHistogram } from './telemetry';
