import type { Pool, PoolClient } from 'pg';

const GUARDED = Symbol.for('flowline.pg.guarded');

/**
 * Makes a pg Pool safe against a lost server: an 'error' listener on the pool (idle clients) AND
 * on every client it creates, for its whole life. pg's pool removes its own listener while a client
 * is checked out, so a backend terminated between two statements of a transaction (PostgreSQL
 * restarted, pg_terminate_backend) emitted an unhandled 'error' and killed the process. With the
 * listener the client is marked broken: the pending or next statement fails (an infrastructure
 * error the caller retries) and the pool discards the client on release. Idempotent.
 */
export function guardPool<P extends Pool>(pool: P, onError?: (error: Error) => void): P {
  const marked = pool as unknown as Record<symbol, boolean>;
  if (marked[GUARDED]) return pool;
  marked[GUARDED] = true;
  const report = onError ?? (() => undefined);
  pool.on('error', (e) => report(e));
  const guard = (client: PoolClient) => void client.on('error', (e) => report(e));
  pool.on('connect', guard);
  // Clients the pool made before this call (TypeORM connects once while initialising, and only
  // then can its pool be guarded) get the listener too: pg-pool lists every client, idle or
  // checked out, in `_clients`. One of them, checked out when the server crashed, killed
  // inventory in CI's PostgreSQL-crash test.
  for (const client of (pool as unknown as { _clients?: PoolClient[] })._clients ?? []) guard(client);
  return pool;
}
