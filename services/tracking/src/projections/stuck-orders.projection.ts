import type { OrderStage } from '@flowline/contracts';
import type { OrderSummaryRow } from './order-summary.projection';

/** An order that stayed in one stage past the stuck threshold (default 24 h). */
export interface StuckOrderView {
  orderId: string;
  channel: string;
  stage: OrderStage;
  stageEnteredAt: string;
  stuckSince: string;
  stuckForMs: number;
  onHold: boolean;
  exception: boolean;
}

/** The stuck orders at `now`, longest-waiting first (the rows carry `stuckAt`, set from the SLA config). */
export function stuckOrders(rows: readonly OrderSummaryRow[], now: string): StuckOrderView[] {
  const t = Date.parse(now);
  return rows
    .filter((r) => r.stuckAt !== null && Date.parse(r.stuckAt) <= t)
    .map((r) => ({
      orderId: r.orderId,
      channel: r.channel,
      stage: r.stage,
      stageEnteredAt: r.stageEnteredAt,
      stuckSince: r.stuckAt!,
      stuckForMs: t - Date.parse(r.stageEnteredAt),
      onHold: r.onHold,
      exception: r.exception,
    }))
    .sort((a, b) => b.stuckForMs - a.stuckForMs || (a.orderId < b.orderId ? -1 : 1));
}
