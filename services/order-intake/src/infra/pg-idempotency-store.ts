import type { Pool } from 'pg';
import { idempotencyKeyReused, type IdempotencyStore, type StoredResponse } from '../application/idempotency';
import { guardPool } from '@flowline/eventstore';

/**
 * Idempotency keys in PostgreSQL. A transaction takes an advisory lock on (scope, key), so
 * concurrent requests with one key queue; the first runs the request and stores its response in
 * the same transaction, the others then find it. Give it its own small pool: a request holds
 * one connection here while the command itself uses the store's pool.
 */
export class PgIdempotencyStore implements IdempotencyStore {
  constructor(private readonly pool: Pool) {
    // A lost connection (PostgreSQL restarted) fails the statement instead of crashing the process.
    guardPool(pool);
  }

  async once(scope: string, key: string, requestHash: string, execute: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`flowline.idempotency:${scope}:${key}`]);
      const found = await client.query<{ request_hash: string; status: number; body: unknown; headers: Record<string, string> | null }>(
        'SELECT request_hash, status, body, headers FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [scope, key],
      );
      if (found.rowCount) {
        await client.query('COMMIT');
        const row = found.rows[0];
        if (row.request_hash !== requestHash) throw idempotencyKeyReused(key);
        return { response: { status: row.status, body: row.body, ...(row.headers ? { headers: row.headers } : {}) }, replayed: true };
      }
      const response = await execute();
      await client.query('INSERT INTO idempotency_keys (scope, key, request_hash, status, body, headers) VALUES ($1, $2, $3, $4, $5, $6)', [
        scope,
        key,
        requestHash,
        response.status,
        JSON.stringify(response.body ?? null),
        response.headers ? JSON.stringify(response.headers) : null,
      ]);
      await client.query('COMMIT');
      return { response, replayed: false };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
