import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import { ANALYTICS_SCHEMA, table } from '../infra/analytics-schema';

export const SALES_DIMENSIONS = ['day', 'hour', 'weekday', 'channel', 'shop', 'sku', 'province'] as const;
export type SalesDimension = (typeof SALES_DIMENSIONS)[number];

/** One bucket of sales. Money in integer fen; `aov` rounded half up to the fen. */
export interface SalesRow {
  key: string;
  orders: number;
  units: number;
  revenue: number;
  refunds: number;
  net: number;
  aov: number;
}

export interface SalesReport {
  by: SalesDimension;
  from: string;
  to: string;
  timeZone: string;
  currency: string;
  total: SalesRow;
  rows: SalesRow[];
  /** Customers (by channel customer id) with two or more paid orders in the range / customers with one or more. */
  repeatPurchaseRate: number;
  customers: number;
  repeatCustomers: number;
}

export interface SalesFilter {
  from: string;
  to: string;
  channel?: string;
  shopId?: string;
  /** The caller's shop scope: only these shops count (undefined = every shop; api/analytics-scope.ts). */
  shops?: string[];
  /** Day, hour and weekday buckets without sales as zero rows (a chart's continuous axis). */
  fill?: boolean;
}

const zero = (key: string): SalesRow => ({ key, orders: 0, units: 0, revenue: 0, refunds: 0, net: 0, aov: 0 });

/** Every bucket key of a time dimension over [from, to) in `timeZone`; null for the other dimensions. */
export function bucketKeys(by: SalesDimension, from: string, to: string, timeZone: string): string[] | null {
  if (by === 'hour') return Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  if (by === 'weekday') return ['1', '2', '3', '4', '5', '6', '7'];
  if (by !== 'day') return null;
  const local = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  const first = local(Date.parse(from));
  const last = local(Date.parse(to) - 1);
  const keys: string[] = [];
  for (let d = Date.parse(`${first}T00:00:00Z`); keys.length <= 1_100; d += 86_400_000) {
    const key = new Date(d).toISOString().slice(0, 10);
    keys.push(key);
    if (key >= last) break;
  }
  return keys;
}

/**
 * Sales figures computed from the fact tables at query time. An order counts once it is paid, in
 * the bucket of the time it was placed (the buyer's moment: peak hours, weekdays, promotion days),
 * in the configured zone; revenue is what was paid, refunds what
 * was refunded on those orders, net the difference. For the SKU dimension revenue is the line's
 * value (quantity x unit price - line discount) and an order's refunds are prorated to its lines
 * by value.
 */
export class SalesQueries {
  constructor(private readonly pool: Pool, private readonly timeZone: string, private readonly schema: string = ANALYTICS_SCHEMA) {}

  async sales(by: SalesDimension, f: SalesFilter): Promise<SalesReport> {
    if (!(Date.parse(f.from) < Date.parse(f.to))) throw new DomainError('INVALID_RANGE', 'from must be before to', { fields: ['from', 'to'] }, 'invalid');
    const s = this.schema;
    const params: unknown[] = [f.from, f.to, this.timeZone, f.channel ?? null, f.shopId ?? null, f.shops ?? null];
    const paid = `SELECT o.*, (SELECT coalesce(sum(l."quantity"), 0) FROM ${table(s, 'order_line')} l WHERE l."order_id" = o."order_id")::bigint AS "units"
      FROM ${table(s, 'order_fact')} o
      WHERE o."paid_at" IS NOT NULL AND o."placed_at" >= $1 AND o."placed_at" < $2 AND ($4::text IS NULL OR o."channel" = $4) AND ($5::text IS NULL OR o."shop_id" = $5) AND ($6::text[] IS NULL OR o."shop_id" = ANY($6::text[])) AND $3::text IS NOT NULL`;
    const local = `(o."placed_at" AT TIME ZONE $3)`;
    const keys: Record<Exclude<SalesDimension, 'sku'>, string> = {
      day: `to_char(${local}, 'YYYY-MM-DD')`,
      hour: `lpad(extract(hour FROM ${local})::int::text, 2, '0')`,
      weekday: `extract(isodow FROM ${local})::int::text`,
      channel: `o."channel"`,
      shop: `o."shop_id"`,
      province: `o."province"`,
    };
    const agg = `count(*)::bigint AS orders, sum(o."units")::bigint AS units, sum(o."paid_amount")::bigint AS revenue, sum(o."refunded_amount")::bigint AS refunds`;
    const rowsSql =
      by === 'sku'
        ? `WITH o AS (${paid})
           SELECT l."sku" AS key, count(DISTINCT o."order_id")::bigint AS orders, sum(l."quantity")::bigint AS units,
                  sum(l."quantity" * l."unit_price" - l."line_discount")::bigint AS revenue,
                  sum(CASE WHEN o."items_total" > 0 THEN round(o."refunded_amount"::numeric * (l."quantity" * l."unit_price" - l."line_discount") / o."items_total") ELSE 0 END)::bigint AS refunds
             FROM o JOIN ${table(s, 'order_line')} l ON l."order_id" = o."order_id" GROUP BY 1 ORDER BY 1`
        : `WITH o AS (${paid}) SELECT ${keys[by]} AS key, ${agg} FROM o GROUP BY 1 ORDER BY 1`;
    let rows = (await this.pool.query(rowsSql, params)).rows.map(toRow);
    const buckets = f.fill ? bucketKeys(by, f.from, f.to, this.timeZone) : null;
    if (buckets) {
      const got = new Map(rows.map((r) => [r.key, r]));
      rows = buckets.map((k) => got.get(k) ?? zero(k));
    }
    const [t] = (await this.pool.query(`WITH o AS (${paid}) SELECT 'total' AS key, ${agg}, min(o."currency") AS currency FROM o`, params)).rows;
    const [r] = (
      await this.pool.query(
        `WITH o AS (${paid}), c AS (SELECT "customer_key", count(*) AS n FROM o GROUP BY 1)
         SELECT count(*)::int AS customers, count(*) FILTER (WHERE n >= 2)::int AS repeaters FROM c`,
        params,
      )
    ).rows;
    return {
      by,
      from: f.from,
      to: f.to,
      timeZone: this.timeZone,
      currency: (t.currency as string | null) ?? 'CNY',
      total: toRow({ ...t, orders: t.orders ?? 0 }),
      rows,
      customers: r.customers,
      repeatCustomers: r.repeaters,
      repeatPurchaseRate: r.customers ? r.repeaters / r.customers : 0,
    };
  }
}

function toRow(r: { key: string; orders: string | number | null; units: string | number | null; revenue: string | number | null; refunds: string | number | null }): SalesRow {
  const orders = Number(r.orders ?? 0);
  const revenue = Number(r.revenue ?? 0);
  const refunds = Number(r.refunds ?? 0);
  return { key: String(r.key), orders, units: Number(r.units ?? 0), revenue, refunds, net: revenue - refunds, aov: orders ? Math.round(revenue / orders) : 0 };
}
