import { defineCounter } from '@flowline/observability';
import type { Pool, PoolClient } from 'pg';
import { currentOperation } from '../application/operation-scope';

/**
 * Per command. The per-database total, `flowline_db_queries_total{database}` (every pg client of
 * the process), is libs/observability's (db-queries.ts): these break it down by what caused it.
 */
export const DB_QUERIES_METRIC = 'flowline_db_operation_queries_total';
export const DB_COMMITS_METRIC = 'flowline_db_operation_commits_total';

/** Operation label of work outside any command (relay polls and publishes, consumer bookkeeping, timers). */
export const BACKGROUND = 'background';

/** A COMMIT alone, or ending a batch of statements (infra/commit-tail.ts sends its writes with the COMMIT). */
const COMMITS = /(^|;)\s*commit\s*;?\s*$/i;

function queryText(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && typeof (arg as { text?: unknown }).text === 'string') return (arg as { text: string }).text;
  return '';
}

/**
 * Counts database round trips per service and operation: every statement sent on a client of
 * `pool` (pool.query goes through one as well) adds one to
 * `flowline_db_operation_queries_total{service,operation}`, and a COMMIT to
 * `flowline_db_operation_commits_total` (the WAL-flushing ones). The operation
 * is the command in flight (application/operation-scope.ts), else `background`. The bench divides
 * them by the orders it placed (issue #10: round trips and commits per order).
 */
export function countQueries(pool: Pool, service: string): void {
  const queries = defineCounter({ name: DB_QUERIES_METRIC, help: 'Database statements sent (round trips), by service and operation', labelNames: ['service', 'operation'] });
  const commits = defineCounter({ name: DB_COMMITS_METRIC, help: 'Database transactions committed, by service and operation', labelNames: ['service', 'operation'] });
  pool.on('connect', (client: PoolClient) => {
    const query = client.query;
    client.query = function (this: PoolClient, ...args: unknown[]) {
      const labels = { service, operation: currentOperation() ?? BACKGROUND };
      queries.inc(labels);
      if (COMMITS.test(queryText(args[0]))) commits.inc(labels);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as PoolClient['query'];
  });
}
