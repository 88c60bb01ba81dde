import { createHash } from 'node:crypto';
import type { Pool, QueryResult } from 'pg';
import { idempotencyKeyReused, type IdempotencyStore, type Prefetch, type StoredResponse } from '../application/idempotency';
import { BatchPrepared, guardPool, type SqlClient, sqlLiteral } from '@flowline/eventstore';
import { commitWithTail, dropCommitTail, openCommitTail } from './commit-tail';

/**
 * The key's stored response, prepared once per connection (plan_cache_mode left on auto: a key
 * lookup's generic plan is chosen after a few runs): sent as literal text it was parsed and planned
 * anew for every command (0.25 ms of backend CPU each, pg_stat_statements, issue #10).
 */
const FIND_KEY = new BatchPrepared('text, text', 'SELECT request_hash, status, body, headers FROM idempotency_keys WHERE scope = $1 AND key = $2');

/**
 * Idempotency keys in PostgreSQL. A transaction takes an advisory lock on (scope, key), so
 * concurrent requests with one key queue; the first runs the request inside the same transaction
 * (`execute(client)`: the order change and its outbox are written there) and stores its response
 * with the one COMMIT, the others then find it. One pooled connection per request: the store
 * shares the order store's pool. The connection carries a commit tail (commit-tail.ts): the
 * writes `execute` defers, the key's row and the COMMIT go in one round trip.
 */
export class PgIdempotencyStore implements IdempotencyStore {
  constructor(private readonly pool: Pool) {
    // A lost connection (PostgreSQL restarted) fails the statement instead of crashing the process.
    guardPool(pool);
  }

  async once<T = never>(
    scope: string,
    key: string,
    requestHash: string,
    execute: (tx?: SqlClient, prefetched?: T) => Promise<StoredResponse>,
    prefetch?: Prefetch<T>,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      // One round trip for the three (and the request's own first read, `prefetch`): the lock id is
      // a number computed here and scope / key go in as escaped literals, so they travel as one
      // simple query. Each statement of it takes its own snapshot (READ COMMITTED), so the
      // SELECTs, run once the lock is granted, see what the previous holder committed.
      const first = prefetch?.(client);
      const find = FIND_KEY.statements(client, [sqlLiteral(scope, 'an Idempotency-Key scope'), sqlLiteral(key, 'an Idempotency-Key')]);
      const results = (await client.query(
        `BEGIN; SELECT pg_advisory_xact_lock(${lockId(scope, key)}); ${find.sql.join('; ')}` + (first ? `;\n${first.sql}` : ''),
      )) as unknown as QueryResult<{ request_hash: string; status: number; body: unknown; headers: Record<string, string> | null }>[];
      find.confirm();
      // BEGIN, the lock, then PREPARE (on this connection's first request) and EXECUTE.
      const foundAt = 1 + find.sql.length;
      const found = results[foundAt];
      const prefetchResults = results.slice(foundAt + 1, foundAt + 1 + (first?.statements ?? 0));
      if (found.rowCount) {
        await client.query('COMMIT');
        // The replay needs no prefetch, but its statements ran, PREPAREs included (see the event
        // store's BatchPrepared): reading them confirms those, so the next request on this
        // connection only EXECUTEs them instead of preparing them again under fresh names. The read
        // after the COMMIT notes no locks as held; if it fails, they stay unconfirmed (prepared again).
        try {
          first?.read(prefetchResults);
        } catch {
          // The stored response is the answer either way.
        }
        const row = found.rows[0];
        if (row.request_hash !== requestHash) throw idempotencyKeyReused(key);
        return { response: { status: row.status, body: row.body, ...(row.headers ? { headers: row.headers } : {}) }, replayed: true };
      }
      const prefetched = first ? first.read(prefetchResults) : undefined;
      openCommitTail(client);
      const response = await execute(client, prefetched);
      await commitWithTail(client, [
        {
          text: 'INSERT INTO idempotency_keys (scope, key, request_hash, status, body, headers) VALUES ($1, $2, $3, $4, $5, $6)',
          params: [scope, key, requestHash, response.status, JSON.stringify(response.body ?? null), response.headers ? JSON.stringify(response.headers) : null],
        },
      ]);
      return { response, replayed: false };
    } catch (error) {
      dropCommitTail(client);
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      dropCommitTail(client);
      client.release(broken);
    }
  }
}

/** The advisory lock of one (scope, key): a signed 64-bit integer from its SHA-256 (same on every replica). */
export function lockId(scope: string, key: string): string {
  return createHash('sha256').update(`flowline.idempotency:${scope}:${key}`).digest().readBigInt64BE(0).toString();
}
