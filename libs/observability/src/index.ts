// First: keeps undici out of the process until it is used (idle memory, issue #10 item 6).
import './defer-undici';
export * from './telemetry';
export * from './logger';
export * from './metrics';
export * from './health';
export * from './testing/in-memory-tracing';
export * from './db-queries';
