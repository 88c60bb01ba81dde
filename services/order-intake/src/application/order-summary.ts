import { presaleWaiting } from '../domain/policies/order-process.policy';
import { shortageCandidate, waitsFor } from '../domain/policies/shortage-retry.policy';
import type { ExistingOrder } from '../domain/order.state';
import type { OrderSummary } from './order-store.port';

/** The read-table row of an order, from its state (written in the same transaction as its events). */
export function summaryOf(s: ExistingOrder, revision: number, updatedAt: string): OrderSummary {
  return {
    orderId: s.orderId,
    channel: s.order.channel,
    channelOrderId: s.order.channelOrderId,
    shopId: s.order.shopId,
    stage: s.status,
    onHold: s.hold !== null,
    inException: s.exception !== null,
    grandTotal: s.order.totals.grandTotal,
    currency: s.order.totals.currency,
    placedAt: s.order.placedAt,
    updatedAt,
    revision,
    movableSince: s.movableSince,
    reserved: s.reservation !== null,
    presaleNextAt: presaleNextAt(s),
    shortSkus: shortSkusOf(s),
  };
}

/**
 * While the order waits for stock (an open STOCK_SHORTAGE exception before reservation, not held,
 * no refund requested): the SKUs it was short of, or every SKU of its lines when a change dropped
 * those. Null otherwise. The shortage retry's candidates (ShortageRetryJob).
 */
export function shortSkusOf(s: ExistingOrder): string[] | null {
  const c = shortageCandidate(s);
  return c ? waitsFor(c) : null;
}

/** The presale deadline the timer watches: the balance due-by while it is unpaid, then the ship date while reserved. */
function presaleNextAt(s: ExistingOrder): string | null {
  const w = presaleWaiting(s);
  if (!w) return null;
  if (w.balanceDue) return w.balanceDueBy;
  return w.stage === 'stock_reserved' ? w.shipNotBefore : null;
}
