import type { SqlQueryable, TransactionRunner } from '@flowline/messaging';
import { PROJECTION_SWAP_LOCK } from './tracking-schema';

/**
 * Every transaction that writes the live schema first takes the swap lock in shared mode; a
 * rebuild's swap takes it exclusively. So a swap waits for writes in flight, and a write never
 * spans the rename (its statements all resolve `tracking.*` to the same schema).
 */
export function withSwapLock<Tx extends SqlQueryable>(inner: TransactionRunner<Tx>): TransactionRunner<Tx> {
  return {
    run: (fn) =>
      inner.run(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [PROJECTION_SWAP_LOCK]);
        return fn(tx);
      }),
    execute: (sql) => inner.execute(sql),
  };
}
