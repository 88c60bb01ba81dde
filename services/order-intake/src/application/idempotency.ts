import type { SqlClient } from '@flowline/eventstore';
import type { QueryResult } from 'pg';

/** A response kept for an idempotency key, replayed byte for byte on a repeat. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Idempotency-Key / request_id handling. `once` runs `execute` at most once per (scope, key):
 * - the same key with the same request hash gets the stored response (`replayed: true`);
 * - the same key with another request is refused (IDEMPOTENCY_KEY_REUSED, 422);
 * - concurrent calls with one key run `execute` once; the others wait and get its response.
 * Only successful responses are stored: a refused or failed request may be retried with the key.
 * `execute` gets the transaction that will hold the stored response (PostgreSQL): the command
 * writes its change there, so the key, the order change and its outbox commit together, on one
 * pooled connection. Whatever `execute` throws rolls all of it back.
 */
export interface IdempotencyStore {
  once<T = never>(
    scope: string,
    key: string,
    requestHash: string,
    execute: (tx?: SqlClient, prefetched?: T) => Promise<StoredResponse>,
    prefetch?: Prefetch<T>,
  ): Promise<{ response: StoredResponse; replayed: boolean }>;
}

/**
 * A read the request needs first (the order it changes), for a store that holds a transaction to
 * run in the round trip that takes the key's lock, after it (so it sees what the key's previous
 * holder committed): given that transaction's client, `sql` is `statements` plain SQL statements
 * (no parameters), `read` turns their results into what `execute` gets as `prefetched`. A store
 * that cannot (in memory) ignores it: `execute` then reads for itself.
 */
export type Prefetch<T> = (tx: SqlClient) => { sql: string; statements: number; read(results: readonly QueryResult[]): T };

// Hashing and the refusal are shared with the other services (inventory) through @flowline/platform.
export { canonicalJson, IDEMPOTENCY_KEY_REUSED, idempotencyKeyReused, requestHash } from '@flowline/platform';
