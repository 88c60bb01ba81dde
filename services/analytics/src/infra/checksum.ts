import type { SqlQueryable } from '@flowline/messaging';
import { createHash } from 'node:crypto';
import { quoteSchema, table, type FactTable } from './analytics-schema';

/**
 * The projected tables and the key each is hashed in. `applied_event` and `checkpoint` are bookkeeping,
 * not facts. `columns`: the facts of a table with bookkeeping columns (stock_level's revision: a
 * live schema migrated from before it holds -1 where a rebuild holds the revision, same facts).
 */
const HASHED: { name: FactTable; key: string; columns?: string }[] = [
  { name: 'order_fact', key: '"order_id"' },
  { name: 'order_line', key: '"order_id", "line_id"' },
  { name: 'refund', key: '"event_id"' },
  { name: 'allocation', key: '"order_id", "line_id", "warehouse_id"' },
  { name: 'stock_level', key: '"sku", "warehouse_id"', columns: 'x."sku", x."warehouse_id", x."on_hand", x."reserved", x."available"' },
  { name: 'shipment', key: '"order_id", "shipment_id"' },
];

export interface AnalyticsChecksum {
  schema: string;
  tables: Record<string, { rows: number; md5: string }>;
  checksum: string;
}

/** md5 over every row of every fact table in key order, times in UTC: equal facts give equal sums. */
export async function analyticsChecksum(transactions: { run<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> }, schema: string): Promise<AnalyticsChecksum> {
  quoteSchema(schema);
  return transactions.run(async (tx) => {
    await tx.query(`SET LOCAL TimeZone = 'UTC'`);
    const tables: AnalyticsChecksum['tables'] = {};
    for (const t of HASHED) {
      const row = t.columns ? `ROW(${t.columns})` : 'x';
      const [r] = (await tx.query(`SELECT count(*) AS n, md5(coalesce(string_agg(md5(${row}::text), '' ORDER BY ${t.key}), '')) AS h FROM ${table(schema, t.name)} x`)).rows;
      tables[t.name] = { rows: Number(r.n), md5: r.h as string };
    }
    const checksum = createHash('md5')
      .update(HASHED.map((t) => tables[t.name].md5).join(':'))
      .digest('hex');
    return { schema, tables, checksum };
  });
}
