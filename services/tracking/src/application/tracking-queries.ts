import { approvalChains } from '../projections/approval-chain.projection';
import { shipmentsOf } from '../projections/shipments.projection';
import type { OrderStage, SlaColour, TrackingChecksumView, TrackingCounts, TrackingShortageLine, TrackingShortageOrder, TrackingShortages, TrackingKpiReport, TrackingOrderDetailView, TrackingOrderPage, TrackingShipmentView, TrackingStuckOrderView } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import type { DataSource } from 'typeorm';
import type { SlaConfig } from '../domain/sla';
import type { Clock } from '../infra/clock';
import { summaryFromRecord, timelineFromRecord, visitFromRecord, type StoredOrderSummary } from '../infra/row-mapping';
import { projectionChecksum } from '../infra/checksum';
import { table, TRACKING_SCHEMA } from '../infra/tracking-schema';
import { typeormTransactions } from '@flowline/messaging';
import { projectInMemory } from '../projections/in-memory.projection';
import { PLATFORM_CHANNELS, WORKING_STAGES } from '../projections/kpi.projection';
import { STAGE_LABELS } from '../projections/labels';
import { clockStatus } from '../projections/order-summary.projection';
import { compareTimeline } from '../projections/order-timeline.projection';
import { toOrderView, toStageDurationView, toTimelineView } from './views';

export interface OrderListFilter {
  stages?: OrderStage[];
  slaColours?: SlaColour[];
  channel?: string;
  shopId?: string;
  /** Only these shops (a shop-limited user's scope), in the query itself so every page is full. */
  shopIds?: string[];
  onHold?: boolean;
  exception?: boolean;
  stuck?: boolean;
  /** placed_at in [placedFrom, placedTo). */
  placedFrom?: string;
  placedTo?: string;
  /**
   * Four digits: the phone tail (尾号). Anything else: order id, channel order id or masked customer
   * (prefix), or exactly one of the order's SKUs.
   */
  query?: string;
  /** Last four digits of the receiver's phone. */
  phoneTail?: string;
  /** One SKU of the order's lines (exact). */
  sku?: string;
  limit?: number;
  cursor?: string;
}

const MAX_PAGE = 500;
/**
 * How long one board count answers the same question (GET /api/tracking/counts). The boards fetch
 * again 2 s after a live change: no sooner than this, so the answer they get was counted after it.
 */
const COUNTS_REUSE_MS = 2_000;

/**
 * SQL: the summary row `o` waits for stock only: its open exception is the shortage (resolving it
 * must not clear another one, e.g. an address check), not on hold and no refund requested (a
 * restock would not move those; they leave the list until released, and for good once refunded).
 */
const RESTOCK_WOULD_MOVE = `NOT o."on_hold" AND NOT o."refund_requested" AND o."exception_code" IN ('STOCK_SHORTAGE', 'stock_shortage')`;

/** A search box holding exactly four digits means a phone tail (尾号1234). */
export const PHONE_TAIL = /^\d{4}$/;

function encodeCursor(placedAt: string, orderId: string): string {
  return Buffer.from(JSON.stringify([placedAt, orderId])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  throw new DomainError('invalid_cursor', 'cursor is not one this API returned', {}, 'invalid');
}

const rowsOf = (r: unknown): any[] => (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : (r as any[]));

/** Read side of tracking: the board, one order (now or as of a moment), KPIs, stuck orders, checksums. */
export class TrackingQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sla: SlaConfig,
    private readonly clock: Clock,
  ) {}

  private async q(sql: string, params: unknown[] = []): Promise<any[]> {
    return rowsOf(await this.dataSource.query(sql, params));
  }

  /** Orders newest first (by placement), filtered, one page at a time. */
  async listOrders(f: OrderListFilter): Promise<TrackingOrderPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (f.stages?.length) where.push(`"stage" = ANY(${p(f.stages)}::text[])`);
    if (f.slaColours?.length) where.push(`"sla_colour" = ANY(${p(f.slaColours)}::text[])`);
    if (f.channel) where.push(`"channel" = ${p(f.channel)}`);
    if (f.shopId) where.push(`"shop_id" = ${p(f.shopId)}`);
    if (f.shopIds) where.push(`"shop_id" = ANY(${p(f.shopIds)}::text[])`);
    if (f.onHold !== undefined) where.push(`"on_hold" = ${p(f.onHold)}`);
    if (f.exception !== undefined) where.push(`"exception" = ${p(f.exception)}`);
    if (f.stuck !== undefined) {
      const now = p(this.clock.now().toISOString());
      where.push(f.stuck ? `("stuck_at" IS NOT NULL AND "stuck_at" <= ${now}::timestamptz)` : `("stuck_at" IS NULL OR "stuck_at" > ${now}::timestamptz)`);
    }
    if (f.placedFrom) where.push(`"placed_at" >= ${p(f.placedFrom)}::timestamptz`);
    if (f.placedTo) where.push(`"placed_at" < ${p(f.placedTo)}::timestamptz`);
    // Migration v3's indexes: (phone_tail, placed_at, order_id), read backwards, gives the page in order; GIN on skus.
    if (f.phoneTail) where.push(`"phone_tail" = ${p(f.phoneTail)}`);
    if (f.sku) where.push(`"skus" @> ARRAY[${p(f.sku)}]::text[]`);
    if (f.query && PHONE_TAIL.test(f.query)) where.push(`"phone_tail" = ${p(f.query)}`);
    else if (f.query) {
      const like = p(`${f.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`("order_id" LIKE ${like} OR "channel_order_id" LIKE ${like} OR "customer_masked" LIKE ${like} OR "skus" @> ARRAY[${p(f.query)}]::text[])`);
    }
    if (f.cursor) {
      const [placedAt, orderId] = decodeCursor(f.cursor);
      where.push(`("placed_at", "order_id") < (${p(placedAt)}::timestamptz, ${p(orderId)})`);
    }
    const limit = Math.min(Math.max(1, f.limit ?? 50), MAX_PAGE);
    const rows = await this.q(
      `SELECT * FROM ${table(TRACKING_SCHEMA, 'order_summary')} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "placed_at" DESC, "order_id" DESC LIMIT ${limit + 1}`,
      params,
    );
    const items = rows.slice(0, limit).map((r) => toOrderView(summaryFromRecord(r)));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.placedAt, last.orderId) : null };
  }

  /**
   * Orders in `stages` counted by channel, shop, stage, SLA colour, hold, exception and stuck, in
   * the scope of `shopIds` (undefined: every shop). Colour and stuck are the stored ones the order
   * views carry (moved by the SLA clock's tick), so a board can move a view's group by its change.
   * One grouped scan; an answer is reused for 2 s per question, so many open boards cost one scan.
   */
  async counts(f: { stages: readonly OrderStage[]; channel?: string; shopIds?: readonly string[] }): Promise<TrackingCounts> {
    const key = JSON.stringify([f.stages, f.channel ?? null, f.shopIds ?? null]);
    // Real time, not the service clock (a driven clock may stand still).
    const now = performance.now();
    const cached = this.countsCache.get(key);
    if (cached && now - cached.at < COUNTS_REUSE_MS) return cached.answer;
    const answer = this.countNow(f);
    this.countsCache.set(key, { at: now, answer });
    answer.catch(() => this.countsCache.delete(key));
    if (this.countsCache.size > 100) this.countsCache.delete(this.countsCache.keys().next().value as string);
    return answer;
  }

  private readonly countsCache = new Map<string, { at: number; answer: Promise<TrackingCounts> }>();

  private async countNow(f: { stages: readonly OrderStage[]; channel?: string; shopIds?: readonly string[] }): Promise<TrackingCounts> {
    const at = this.clock.now().toISOString();
    const rows = (await this.q(
      `SELECT "channel", "shop_id", "stage", "sla_colour", "on_hold", "exception", "stuck", count(*)::int AS "n"
         FROM ${table(TRACKING_SCHEMA, 'order_summary')}
        WHERE "stage" = ANY($1::text[]) AND ($2::text IS NULL OR "channel" = $2) AND ($3::text[] IS NULL OR "shop_id" = ANY($3::text[]))
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5, 6, 7`,
      [f.stages, f.channel ?? null, f.shopIds ?? null],
    )) as { channel: string; shop_id: string; stage: OrderStage; sla_colour: SlaColour; on_hold: boolean; exception: boolean; stuck: boolean; n: number }[];
    return {
      at,
      stages: [...f.stages],
      groups: rows.map((r) => ({ channel: r.channel, shopId: r.shop_id, stage: r.stage, sla: r.sla_colour, onHold: r.on_hold, exception: r.exception, stuck: r.stuck, count: r.n })),
    };
  }

  /**
   * The shortage list (缺货): every SKU open orders wait for, from the short lines of the orders
   * whose open exception is a stock shortage (held ones and those with a refund requested left
   * out); most waiting orders first, at most `limit` SKUs. Reads only those rows (a partial index
   * on `shortage`).
   */
  async shortages(f: { channel?: string; shopIds?: readonly string[]; limit?: number }): Promise<TrackingShortages> {
    const at = this.clock.now().toISOString();
    const where = `o."shortage" IS NOT NULL AND ${RESTOCK_WOULD_MOVE} AND ($1::text IS NULL OR o."channel" = $1) AND ($2::text[] IS NULL OR o."shop_id" = ANY($2::text[]))`;
    const params = [f.channel ?? null, f.shopIds ?? null];
    // One statement, one snapshot: the order total and the SKU rows always agree.
    const rows = await this.q(
      `WITH w AS MATERIALIZED (
         SELECT o."order_id", o."shortage", coalesce(o."paid_at", o."placed_at") AS "since" FROM ${table(TRACKING_SCHEMA, 'order_summary')} o WHERE ${where})
       SELECT t."n", g."sku", g."orders", g."units", g."since"
         FROM (SELECT count(*)::int AS "n" FROM w) t
         LEFT JOIN LATERAL (
           SELECT l->>'sku' AS "sku", count(DISTINCT w."order_id")::int AS "orders", sum((l->>'requested')::numeric)::bigint AS "units", min(w."since") AS "since"
             FROM w CROSS JOIN LATERAL jsonb_array_elements(w."shortage") l
            GROUP BY 1
            ORDER BY 2 DESC, 4, 1
            LIMIT $3) g ON true
        ORDER BY g."orders" DESC, g."since", g."sku"`,
      [...params, Math.min(f.limit ?? MAX_PAGE, MAX_PAGE)],
    );
    return {
      at,
      orders: rows[0]?.n ?? 0,
      skus: rows.filter((r) => r.sku !== null).map((r) => ({ sku: r.sku, orders: r.orders, unitsRequested: Number(r.units), waitingSince: new Date(r.since).toISOString() })),
    };
  }

  /** The open orders short of one SKU, longest waiting first: the order a restock should serve them in. */
  async shortageOrders(f: { sku: string; channel?: string; shopIds?: readonly string[]; limit?: number }): Promise<TrackingShortageOrder[]> {
    const rows = await this.q(
      `SELECT o."order_id", o."channel", o."channel_order_id", o."shop_id", o."shortage", coalesce(o."paid_at", o."placed_at") AS "since"
         FROM ${table(TRACKING_SCHEMA, 'order_summary')} o
        WHERE o."shortage" IS NOT NULL AND ${RESTOCK_WOULD_MOVE} AND o."shortage" @> jsonb_build_array(jsonb_build_object('sku', $1::text))
          AND ($2::text IS NULL OR o."channel" = $2) AND ($3::text[] IS NULL OR o."shop_id" = ANY($3::text[]))
        ORDER BY 6, 1
        LIMIT $4`,
      [f.sku, f.channel ?? null, f.shopIds ?? null, Math.min(f.limit ?? MAX_PAGE, MAX_PAGE)],
    );
    return rows.map((r) => {
      const missing = r.shortage as TrackingShortageLine[];
      const mine = missing.filter((m) => m.sku === f.sku);
      return {
        orderId: r.order_id,
        channel: r.channel,
        channelOrderId: r.channel_order_id,
        shopId: r.shop_id,
        requested: mine.reduce((n, m) => n + m.requested, 0),
        available: Math.min(...mine.map((m) => m.available)),
        missing,
        waitingSince: new Date(r.since).toISOString(),
      };
    });
  }

  async summary(orderId: string): Promise<StoredOrderSummary | null> {
    const rows = await this.q(`SELECT * FROM ${table(TRACKING_SCHEMA, 'order_summary')} WHERE "order_id" = $1`, [orderId]);
    return rows[0] ? summaryFromRecord(rows[0]) : null;
  }

  /**
   * The parcels of several orders (carrier, waybill, tracking number, last carrier state), folded
   * from their fulfillment timeline lines by the same pure shipmentsOf as the order detail: what
   * the board shows on the cards of packed and shipped orders.
   */
  /** Parcels of the orders; with `shopIds` (a shop-limited user's scope) only of the orders in those shops. */
  async shipmentsOfOrders(orderIds: readonly string[], shopIds?: readonly string[]): Promise<Record<string, TrackingShipmentView[]>> {
    const out: Record<string, TrackingShipmentView[]> = {};
    if (orderIds.length === 0) return out;
    const rows = await this.q(
      `SELECT * FROM ${table(TRACKING_SCHEMA, 'timeline_entry')} e WHERE e."order_id" = ANY($1::text[]) AND e."context" = 'fulfillment'
         AND ($2::text[] IS NULL OR EXISTS (SELECT 1 FROM ${table(TRACKING_SCHEMA, 'order_summary')} o WHERE o."order_id" = e."order_id" AND o."shop_id" = ANY($2::text[])))`,
      [[...new Set(orderIds)], shopIds ?? null],
    );
    const byOrder = new Map<string, ReturnType<typeof timelineFromRecord>[]>();
    for (const e of rows.map(timelineFromRecord)) byOrder.set(e.orderId, [...(byOrder.get(e.orderId) ?? []), e]);
    // In the order of fulfillment's own stream (one per order): carrier times may precede the handover's.
    for (const [orderId, entries] of byOrder) out[orderId] = shipmentsOf(entries.sort((a, b) => a.streamPosition - b.streamPosition).map((e) => e.envelope));
    return out;
  }

  /** One order with its whole timeline and stage durations; with `asOf`, as it stood at that moment. */
  async getOrder(orderId: string, asOf?: string): Promise<TrackingOrderDetailView> {
    if (asOf !== undefined) return this.getOrderAsOf(orderId, asOf);
    const summary = await this.summary(orderId);
    if (!summary) throw new DomainError('order_not_found', `order ${orderId} is not tracked`, { orderId }, 'not_found');
    const [timeline, visits] = await Promise.all([
      this.q(`SELECT * FROM ${table(TRACKING_SCHEMA, 'timeline_entry')} WHERE "order_id" = $1`, [orderId]),
      this.q(`SELECT * FROM ${table(TRACKING_SCHEMA, 'stage_visit')} WHERE "order_id" = $1 ORDER BY "visit"`, [orderId]),
    ]);
    const entries = timeline.map(timelineFromRecord).sort(compareTimeline);
    return {
      order: toOrderView(summary),
      timeline: entries.map(toTimelineView),
      stageDurations: visits.map(visitFromRecord).map(toStageDurationView),
      approvalChains: approvalChains(entries.map((e) => e.envelope)),
      shipments: shipmentsOf(entries.map((e) => e.envelope)),
      asOf: null,
    };
  }

  /**
   * The order as of a moment: the events it had by then, folded again by the same projections.
   * The SLA colour and stuck flag are those it had at that moment.
   */
  async getOrderAsOf(orderId: string, asOf: string): Promise<TrackingOrderDetailView> {
    const at = new Date(asOf);
    if (Number.isNaN(at.getTime())) throw new DomainError('invalid_as_of', `asOf "${asOf}" is not an ISO time`, {}, 'invalid');
    const rows = await this.q(
      `SELECT * FROM ${table(TRACKING_SCHEMA, 'timeline_entry')} WHERE "order_id" = $1 AND "occurred_at" <= $2::timestamptz`,
      [orderId, at.toISOString()],
    );
    const entries = rows.map(timelineFromRecord).sort(compareTimeline);
    const folded = projectInMemory(entries.map((e) => e.envelope), this.sla);
    const row = folded.summaries.get(orderId);
    if (!row) throw new DomainError('order_not_found', `order ${orderId} did not exist at ${at.toISOString()}`, { orderId, asOf }, 'not_found');
    const status = clockStatus(row, at.toISOString(), this.sla);
    return {
      order: toOrderView({ ...row, slaColour: status.slaColour, stuck: status.stuck, statusAt: at.toISOString(), updatedAt: row.lastEventAt }),
      // The stored lines (their text was rendered live, from the same events).
      timeline: entries.map(toTimelineView),
      stageDurations: [...folded.visits.values()].sort((a, b) => a.visit - b.visit).map(toStageDurationView),
      approvalChains: approvalChains(entries.map((e) => e.envelope)),
      shipments: shipmentsOf(entries.map((e) => e.envelope)),
      asOf: at.toISOString(),
    };
  }

  /**
   * Orders in a working stage for longer than the stuck threshold at `now`, longest first.
   * `shopIds` (a shop-limited user's scope) is part of the query, so the page is never thinned after its limit.
   */
  async stuckOrders(limit = 100, stalledForMs?: number, shopIds?: string[]): Promise<TrackingStuckOrderView[]> {
    const now = this.clock.now();
    const page = Math.min(Math.max(1, limit), MAX_PAGE);
    // $2 limit, $3 shops (NULL = every shop), then the variant's own parameters.
    const inShops = `($3::text[] IS NULL OR "shop_id" = ANY($3::text[]))`;
    const shops = shopIds ?? null;
    const rows = stalledForMs
      ? await this.q(
          `SELECT * FROM ${table(TRACKING_SCHEMA, 'order_summary')} WHERE NOT ("stage" = ANY($4::text[])) AND "stage_entered_at" <= $1::timestamptz AND ${inShops}
           ORDER BY "stage_entered_at" ASC, "order_id" ASC LIMIT $2`,
          [new Date(now.getTime() - stalledForMs).toISOString(), page, shops, this.sla.notStuckStages],
        )
      : await this.q(
          `SELECT * FROM ${table(TRACKING_SCHEMA, 'order_summary')} WHERE "stuck_at" IS NOT NULL AND "stuck_at" <= $1::timestamptz AND ${inShops}
           ORDER BY "stage_entered_at" ASC, "order_id" ASC LIMIT $2`,
          [now.toISOString(), page, shops],
        );
    return rows.map((r) => {
      const s = summaryFromRecord(r);
      const stuckForMs = now.getTime() - Date.parse(s.stageEnteredAt);
      const hours = Math.floor(stuckForMs / 3_600_000);
      const label = STAGE_LABELS[s.stage] ?? { zh: s.stage, en: s.stage };
      return {
        order: toOrderView(s),
        stuckForMs,
        reason: { zh: `在「${label.zh}」停留 ${hours} 小时未推进`, en: `no progress for ${hours} h in ${label.en}` },
      };
    });
  }

  /** KPIs over [from, to) in SQL; the numbers match `computeKpis` on the same rows (integration test). */
  /** KPIs over orders placed (or shipped, delivered, leaving a stage) in [from, to); `shopIds` (a shop-limited user's scope) narrows every figure to those shops. */
  async kpis(from: string, to: string, channel?: string, shopIds?: readonly string[]): Promise<TrackingKpiReport> {
    const f = new Date(from);
    const t = new Date(to);
    if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime()) || f >= t) throw new DomainError('invalid_window', 'from and to must be ISO times with from < to', { from, to }, 'invalid');
    const now = this.clock.now();
    const horizon = new Date(Math.min(now.getTime(), t.getTime())).toISOString();
    const S = table(TRACKING_SCHEMA, 'order_summary');
    const V = table(TRACKING_SCHEMA, 'stage_visit');
    const ch = channel ?? null;
    const shops = shopIds ?? null;
    // A visit's order in the shops (stage_visit has no shop of its own).
    const visitInShops = (param: string, alias: string) => `(${param}::text[] IS NULL OR EXISTS (SELECT 1 FROM ${S} so WHERE so."order_id" = ${alias}."order_id" AND so."shop_id" = ANY(${param}::text[])))`;
    const inShops = (param: string, alias = '') => `(${param}::text[] IS NULL OR ${alias}"shop_id" = ANY(${param}::text[]))`;
    const [totals] = await this.q(
      `WITH o AS (SELECT * FROM ${S} WHERE "placed_at" >= $1 AND "placed_at" < $2 AND ($3::text IS NULL OR "channel" = $3) AND ${inShops('$8')}),
            stuck AS (SELECT DISTINCT v."order_id" FROM ${V} v JOIN o ON o."order_id" = v."order_id"
                      WHERE NOT (v."stage" = ANY($4::text[]))
                        AND coalesce(v."duration_ms", (extract(epoch FROM ($5::timestamptz - v."entered_at")) * 1000)::bigint) >= $6)
       SELECT count(*)::int AS orders,
              count(*) FILTER (WHERE o."ever_exception" OR o."order_id" IN (SELECT "order_id" FROM stuck))::int AS exception_orders,
              count(*) FILTER (WHERE o."manual_touch")::int AS manual_touch_orders,
              count(*) FILTER (WHERE o."channel" = ANY($7::text[]))::int AS platform_orders,
              count(*) FILTER (WHERE o."channel" = ANY($7::text[]) AND o."ingest_mode" = 'auto')::int AS platform_auto,
              count(*) FILTER (WHERE o."stage" IN ('cancelled', 'refunded'))::int AS cancelled_orders
       FROM o`,
      [f.toISOString(), t.toISOString(), ch, this.sla.notStuckStages, horizon, this.sla.stuckAfterMs, PLATFORM_CHANNELS, shops],
    );
    const byStage = await this.q(
      `SELECT "stage", count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY "duration_ms") AS p50,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY "duration_ms") AS p90
       FROM ${V} v WHERE "left_at" >= $1 AND "left_at" < $2 AND "duration_ms" IS NOT NULL AND ($3::text IS NULL OR "channel" = $3) AND ${visitInShops('$4', 'v')}
       GROUP BY "stage" ORDER BY "stage"`,
      [f.toISOString(), t.toISOString(), ch, shops],
    );
    const [shipped] = await this.q(
      `SELECT count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ("shipped_at" - "paid_at")) * 1000) AS p50,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM ("shipped_at" - "paid_at")) * 1000) AS p90
       FROM ${S} WHERE "shipped_at" >= $1 AND "shipped_at" < $2 AND "paid_at" IS NOT NULL AND ($3::text IS NULL OR "channel" = $3) AND ${inShops('$4')}`,
      [f.toISOString(), t.toISOString(), ch, shops],
    );
    const grid = await this.q(
      `SELECT "channel", "stage", count(*)::int AS n FROM ${S}
       WHERE "placed_at" >= $1 AND "placed_at" < $2 AND ($3::text IS NULL OR "channel" = $3) AND ${inShops('$4')}
       GROUP BY "channel", "stage" ORDER BY "channel", "stage"`,
      [f.toISOString(), t.toISOString(), ch, shops],
    );
    const shares = await this.q(
      `SELECT v."stage", sum(v."duration_ms")::float8 AS total, count(*)::int AS n
       FROM ${V} v JOIN ${S} o ON o."order_id" = v."order_id"
       WHERE o."shipped_at" >= $1 AND o."shipped_at" < $2 AND o."paid_at" IS NOT NULL AND ($3::text IS NULL OR o."channel" = $3) AND ${inShops('$5', 'o.')}
         AND v."duration_ms" IS NOT NULL AND v."stage" = ANY($4::text[])
       GROUP BY v."stage"`,
      [f.toISOString(), t.toISOString(), ch, WORKING_STAGES, shops],
    );
    const [logistics] = await this.q(
      `SELECT coalesce(sum(extract(epoch FROM ("shipped_at" - "paid_at")) * 1000), 0)::float8 AS to_ship,
              coalesce(sum(extract(epoch FROM ("delivered_at" - "paid_at")) * 1000), 0)::float8 AS to_deliver
       FROM ${S} WHERE "delivered_at" >= $1 AND "delivered_at" < $2 AND "paid_at" IS NOT NULL AND "shipped_at" IS NOT NULL AND ($3::text IS NULL OR "channel" = $3) AND ${inShops('$4')}`,
      [f.toISOString(), t.toISOString(), ch, shops],
    );
    const working = shares.reduce((sum: number, r: { total: number }) => sum + Number(r.total), 0);
    const shareOf = new Map(shares.map((r: { stage: string; total: number; n: number }) => [r.stage, r]));
    const round = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v)));
    const rate = (n: number, d: number) => (d === 0 ? null : n / d);
    const cycleTimeByStage: TrackingKpiReport['cycleTimeByStage'] = {};
    for (const r of byStage) cycleTimeByStage[r.stage as OrderStage] = { count: r.n, p50Ms: round(r.p50), p90Ms: round(r.p90) };
    return {
      from: f.toISOString(),
      to: t.toISOString(),
      channel: ch,
      orders: totals.orders,
      cycleTimeByStage,
      paidToShipped: { count: shipped.n, p50Ms: round(shipped.p50), p90Ms: round(shipped.p90) },
      exceptionOrders: totals.exception_orders,
      exceptionRate: rate(totals.exception_orders, totals.orders),
      manualTouchOrders: totals.manual_touch_orders,
      manualTouchRate: rate(totals.manual_touch_orders, totals.orders),
      platformOrders: totals.platform_orders,
      autoIngestRate: rate(totals.platform_auto, totals.platform_orders),
      byChannelAndStage: grid.map((r) => ({ channel: r.channel, stage: r.stage, orders: r.n })),
      cancelledOrders: totals.cancelled_orders,
      cancellationRate: rate(totals.cancelled_orders, totals.orders),
      stageShares: WORKING_STAGES.filter((st) => shareOf.has(st)).map((stage) => {
        const r = shareOf.get(stage) as { total: number; n: number };
        return { stage, share: working > 0 ? Number(r.total) / working : 0, averageMs: Math.round(Number(r.total) / r.n) };
      }),
      nonLogisticsShare: Number(logistics.to_deliver) > 0 ? Number(logistics.to_ship) / Number(logistics.to_deliver) : null,
    };
  }

  /** See {@link projectionChecksum}; refuses names that are not tracking schemas. */
  async checksum(schema: string = TRACKING_SCHEMA): Promise<TrackingChecksumView> {
    if (!/^tracking(_[a-z0-9_]+)?$/.test(schema)) throw new DomainError('invalid_schema', `"${schema}" is not a tracking schema`, { schema }, 'invalid');
    const exists = await this.q('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.length === 0) throw new DomainError('schema_not_found', `schema ${schema} does not exist`, { schema }, 'not_found');
    return projectionChecksum(typeormTransactions(this.dataSource), schema);
  }
}
