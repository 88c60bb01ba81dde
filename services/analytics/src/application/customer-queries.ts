import type { Pool } from 'pg';
import { rfm, type RfmRow, type RfmSegment } from '../domain/rfm';
import { skuPairs, type SkuPair } from '../domain/sku-pairs';
import { ANALYTICS_SCHEMA, table } from '../infra/analytics-schema';

export interface RfmReport {
  asOf: string;
  from: string;
  customers: RfmRow[];
  segments: Record<RfmSegment, number>;
}

/** Customer and basket figures: facts read in SQL, scored by the pure functions of src/domain. */
export class CustomerQueries {
  constructor(private readonly pool: Pool, private readonly schema: string = ANALYTICS_SCHEMA) {}

  /** `shops`: the caller's shop scope (undefined = every shop). */
  async rfm(from: string, asOf: string, shops?: string[]): Promise<RfmReport> {
    const rows = (
      await this.pool.query(
        `SELECT "customer_key", "placed_at", ("paid_amount" - "refunded_amount")::bigint AS net FROM ${table(this.schema, 'order_fact')}
          WHERE "paid_at" IS NOT NULL AND "placed_at" >= $1 AND "placed_at" < $2 AND ($3::text[] IS NULL OR "shop_id" = ANY($3::text[]))`,
        [from, asOf, shops ?? null],
      )
    ).rows as { customer_key: string; placed_at: Date; net: string }[];
    const customers = rfm(rows.map((r) => ({ customerKey: r.customer_key, placedAt: r.placed_at.toISOString(), net: Number(r.net) })), asOf);
    const segments = { champions: 0, at_risk: 0, loyal: 0, new_customers: 0, hibernating: 0, needs_attention: 0 };
    for (const c of customers) segments[c.segment]++;
    return { asOf, from, customers, segments };
  }

  async skuPairs(from: string, to: string, minCount?: number, limit?: number, shops?: string[]): Promise<{ baskets: number; pairs: SkuPair[] }> {
    const rows = (
      await this.pool.query(
        `SELECT o."order_id", array_agg(DISTINCT l."sku") AS skus FROM ${table(this.schema, 'order_fact')} o JOIN ${table(this.schema, 'order_line')} l USING ("order_id")
          WHERE o."paid_at" IS NOT NULL AND o."placed_at" >= $1 AND o."placed_at" < $2 AND ($3::text[] IS NULL OR o."shop_id" = ANY($3::text[])) GROUP BY 1`,
        [from, to, shops ?? null],
      )
    ).rows as { skus: string[] }[];
    const baskets = rows.map((r) => r.skus);
    return { baskets: baskets.length, pairs: skuPairs(baskets, { minCount, limit }) };
  }
}
