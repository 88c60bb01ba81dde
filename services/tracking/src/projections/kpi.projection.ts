import type { OrderStage, TrackingDurationStats, TrackingKpiReport } from '@flowline/contracts';
import type { SlaConfig } from '../domain/sla';
import type { OrderSummaryRow } from './order-summary.projection';
import type { StageVisitRow } from './stage-durations.projection';

/** Channels whose orders come from a platform feed (auto-ingest rate is measured on these). */
export const PLATFORM_CHANNELS: readonly string[] = ['taobao', 'tmall', 'jd', 'pinduoduo', 'douyin'];

export type DurationStats = TrackingDurationStats;

/**
 * KPIs over a window [from, to): the API's report ({@link TrackingKpiReport}) without the channel filter.
 * Orders "in the window" were placed in it; cycle times count the stage visits that ended in it.
 * Rates are null when there is nothing to divide by.
 */
export type KpiReport = Omit<TrackingKpiReport, 'channel'>;

/** Stages between payment and shipment whose time is ours (not the carrier's). */
export const WORKING_STAGES: readonly OrderStage[] = ['paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed'];

/** Linear-interpolation percentile, the same as PostgreSQL's `percentile_cont`. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

function stats(values: number[]): DurationStats {
  const sorted = [...values].sort((a, b) => a - b);
  const p50 = percentile(sorted, 0.5);
  const p90 = percentile(sorted, 0.9);
  return { count: sorted.length, p50Ms: p50 === null ? null : Math.round(p50), p90Ms: p90 === null ? null : Math.round(p90) };
}

function rate(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

const inWindow = (t: string | null, from: number, to: number): boolean => t !== null && Date.parse(t) >= from && Date.parse(t) < to;

/**
 * Reference KPI computation over in-memory rows. The service computes the same numbers in SQL; its
 * integration test checks them against this function. `now` bounds still-open visits for stuck detection.
 */
export function computeKpis(input: { orders: readonly OrderSummaryRow[]; visits: readonly StageVisitRow[]; from: string; to: string; now: string; config: SlaConfig }): KpiReport {
  const from = Date.parse(input.from);
  const to = Date.parse(input.to);
  const horizon = Math.min(Date.parse(input.now), to);
  const orders = input.orders.filter((o) => inWindow(o.placedAt, from, to));
  const ids = new Set(orders.map((o) => o.orderId));

  const stuckIds = new Set<string>();
  for (const v of input.visits) {
    if (!ids.has(v.orderId) || input.config.notStuckStages.includes(v.stage)) continue;
    const duration = v.durationMs ?? horizon - Date.parse(v.enteredAt);
    if (duration >= input.config.stuckAfterMs) stuckIds.add(v.orderId);
  }

  const byStage = new Map<OrderStage, number[]>();
  for (const v of input.visits) {
    if (v.durationMs === null || !inWindow(v.leftAt, from, to)) continue;
    const list = byStage.get(v.stage) ?? [];
    list.push(v.durationMs);
    byStage.set(v.stage, list);
  }
  const cycleTimeByStage: Partial<Record<OrderStage, DurationStats>> = {};
  for (const [stage, list] of [...byStage].sort(([a], [b]) => (a < b ? -1 : 1))) cycleTimeByStage[stage] = stats(list);

  const paidToShipped = stats(
    input.orders.filter((o) => o.paidAt && inWindow(o.shippedAt, from, to)).map((o) => Date.parse(o.shippedAt!) - Date.parse(o.paidAt!)),
  );

  const exceptionOrders = orders.filter((o) => o.everException || stuckIds.has(o.orderId)).length;
  const manualTouchOrders = orders.filter((o) => o.manualTouch).length;
  const platform = orders.filter((o) => PLATFORM_CHANNELS.includes(o.channel));
  const counts = new Map<string, { channel: string; stage: OrderStage; orders: number }>();
  for (const o of orders) {
    const key = `${o.channel}\u0000${o.stage}`;
    const c = counts.get(key) ?? { channel: o.channel, stage: o.stage, orders: 0 };
    c.orders++;
    counts.set(key, c);
  }
  const shippedIds = new Set(input.orders.filter((o) => o.paidAt && inWindow(o.shippedAt, from, to)).map((o) => o.orderId));
  const stageSums = new Map<OrderStage, { sum: number; n: number }>();
  for (const v of input.visits) {
    if (!shippedIds.has(v.orderId) || v.durationMs === null || !WORKING_STAGES.includes(v.stage)) continue;
    const acc = stageSums.get(v.stage) ?? { sum: 0, n: 0 };
    acc.sum += v.durationMs;
    acc.n++;
    stageSums.set(v.stage, acc);
  }
  const working = [...stageSums.values()].reduce((t, a) => t + a.sum, 0);
  const stageShares = WORKING_STAGES.filter((s) => stageSums.has(s)).map((stage) => {
    const a = stageSums.get(stage)!;
    return { stage, share: working > 0 ? a.sum / working : 0, averageMs: Math.round(a.sum / a.n) };
  });
  const delivered = input.orders.filter((o) => o.paidAt && o.shippedAt && inWindow(o.deliveredAt, from, to));
  const toShip = delivered.reduce((t, o) => t + (Date.parse(o.shippedAt!) - Date.parse(o.paidAt!)), 0);
  const toDeliver = delivered.reduce((t, o) => t + (Date.parse(o.deliveredAt!) - Date.parse(o.paidAt!)), 0);
  const cancelledOrders = orders.filter((o) => o.stage === 'cancelled' || o.stage === 'refunded').length;
  return {
    from: input.from,
    to: input.to,
    orders: orders.length,
    cancelledOrders,
    cancellationRate: rate(cancelledOrders, orders.length),
    stageShares,
    nonLogisticsShare: toDeliver > 0 ? toShip / toDeliver : null,
    cycleTimeByStage,
    paidToShipped,
    exceptionOrders,
    exceptionRate: rate(exceptionOrders, orders.length),
    manualTouchOrders,
    manualTouchRate: rate(manualTouchOrders, orders.length),
    platformOrders: platform.length,
    autoIngestRate: rate(platform.filter((o) => o.ingestMode === 'auto').length, platform.length),
    byChannelAndStage: [...counts.values()].sort((a, b) => (a.channel === b.channel ? (a.stage < b.stage ? -1 : 1) : a.channel < b.channel ? -1 : 1)),
  };
}
