import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defineCounter } from './metrics';

export const DB_QUERIES_METRIC = 'flowline_db_queries_total';

const PATCHED = Symbol.for('flowline.observability.db-queries');

interface QueryableProto {
  query: (...args: unknown[]) => unknown;
  [PATCHED]?: true;
}

/**
 * Counts database round trips: `flowline_db_queries_total{database}`, one per query a `pg` client
 * sends (pool queries, TypeORM's, BEGIN/COMMIT, LISTEN). The bench reads its delta per service as
 * "round trips per order" (pg_stat_statements is not loaded on every server). Patches
 * `pg.Client.prototype.query` once per process; a label per database keeps it bounded.
 * Returns false when `pg` cannot be loaded (a process that does not use it).
 */
export function countDbQueries(from: string = join(process.cwd(), 'noop.js')): boolean {
  let pg: { Client?: { prototype: QueryableProto } };
  try {
    pg = createRequire(from)('pg') as typeof pg;
  } catch {
    return false;
  }
  const proto = pg.Client?.prototype;
  if (!proto || proto[PATCHED]) return !!proto;
  const counter = defineCounter({ name: DB_QUERIES_METRIC, help: 'Queries (round trips) sent to PostgreSQL, by database', labelNames: ['database'] });
  const children = new Map<string, { inc(): void }>();
  const original = proto.query;
  proto.query = function countedQuery(this: { database?: string }, ...args: unknown[]) {
    const database = this.database ?? '';
    let child = children.get(database);
    if (!child) children.set(database, (child = counter.labels({ database })));
    child.inc();
    return original.apply(this, args);
  };
  proto[PATCHED] = true;
  return true;
}
