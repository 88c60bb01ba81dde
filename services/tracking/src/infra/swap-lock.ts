import type { SqlQueryable, TransactionRunner } from '@flowline/messaging';
import { PROJECTION_SWAP_LOCK } from './tracking-schema';

/**
 * Every transaction that writes the live schema first takes the swap lock in shared mode; a
 * rebuild's swap takes it exclusively. So a swap waits for writes in flight, and a write never
 * spans the rename (its statements all resolve `tracking.*` to the same schema).
 *
 * `genericPlans`: the same first statement also sets `plan_cache_mode = force_generic_plan` for
 * the rest of the transaction (SET LOCAL semantics, no extra round trip). The projection's prepared
 * statements take id arrays whose best plan never depends on the values, but PostgreSQL re-plans
 * a statement with `= ANY($n)` on every execution (its generic plan assumes 10 ids, a custom one the
 * 1-3 of a batch, so the custom plan always looks cheaper): the inbox claim and summary load
 * (ProjectionStore.claimAndLoad) were planned anew for every transaction (issue #10).
 */
export function withSwapLock<Tx extends SqlQueryable>(inner: TransactionRunner<Tx>, options: { genericPlans?: boolean } = {}): TransactionRunner<Tx> {
  const sql = options.genericPlans
    ? `SELECT pg_advisory_xact_lock_shared($1), set_config('plan_cache_mode', 'force_generic_plan', true)`
    : 'SELECT pg_advisory_xact_lock_shared($1)';
  return {
    run: (fn) =>
      inner.run(async (tx) => {
        await tx.query(sql, [PROJECTION_SWAP_LOCK]);
        return fn(tx);
      }),
    execute: (sql) => inner.execute(sql),
  };
}
