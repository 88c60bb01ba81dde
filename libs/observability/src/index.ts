export * from './telemetry';
export * from './logger';
export * from './metrics';
export * from './health';
export * from './testing/in-memory-tracing';
export * from './db-queries';
