import type { TrackingChecksumView } from '@flowline/contracts';
import type { SqlQueryable } from '@flowline/messaging';
import { createHash } from 'node:crypto';
import { SUMMARY_COLUMNS } from './row-mapping';
import { quoteSchema, table } from './tracking-schema';

/**
 * Deterministic hash over a schema's projected rows: every projected column in key order, times in
 * UTC. Clock-dependent columns (SLA colour, stuck flag, when they were computed, updated_at) are
 * left out, so a rebuild and the live schema agree whenever they hold the same events.
 */
export async function projectionChecksum(transactions: { run<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> }, schema: string): Promise<TrackingChecksumView> {
  quoteSchema(schema);
  const summaryCols = SUMMARY_COLUMNS.map((c) => `"${c}"`).join(', ');
  return transactions.run(async (tx) => {
    await tx.query(`SET LOCAL TimeZone = 'UTC'`);
    await tx.query(`SET LOCAL extra_float_digits = 3`);
    const one = async (sql: string) => {
      const [r] = (await tx.query(sql)).rows;
      return { rows: Number(r.n), md5: r.h as string };
    };
    const orderSummary = await one(
      `SELECT count(*) AS n, md5(coalesce(string_agg(md5(ROW(${summaryCols})::text), '' ORDER BY "order_id"), '')) AS h FROM ${table(schema, 'order_summary')}`,
    );
    const timelineEntry = await one(
      `SELECT count(*) AS n, md5(coalesce(string_agg(md5(t::text), '' ORDER BY t."event_id"), '')) AS h FROM ${table(schema, 'timeline_entry')} t`,
    );
    const stageVisit = await one(
      `SELECT count(*) AS n, md5(coalesce(string_agg(md5(v::text), '' ORDER BY v."order_id", v."visit"), '')) AS h FROM ${table(schema, 'stage_visit')} v`,
    );
    const checksum = createHash('md5').update(`${orderSummary.md5}:${timelineEntry.md5}:${stageVisit.md5}`).digest('hex');
    return { schema, tables: { orderSummary, timelineEntry, stageVisit }, checksum };
  });
}
