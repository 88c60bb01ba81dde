import { isExisting, type OrderState } from '../order.state';
import type { UnstampedOrderCommand } from '../order.commands';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default after-sales window (售后期): a delivered order is archived this many days later. */
export const DEFAULT_AFTER_SALES_DAYS = 15;

/** What the archive decision reads of a delivered order. */
export interface DeliveredOrder {
  orderId: string;
  stage: string;
  /**
   * Since when the order could move on: the delivery time, or a later hold release / exception
   * resolution (an after-sales issue restarts the window from the moment it was settled).
   */
  movableSince: string;
  onHold: boolean;
  inException: boolean;
  /** A refund request is open (the returns flow is not settled yet). */
  refundPending: boolean;
}

/** The archive view of an order, or null when it is not delivered. */
export function deliveredOrder(s: OrderState): DeliveredOrder | null {
  if (!isExisting(s) || s.status !== 'delivered') return null;
  return { orderId: s.orderId, stage: s.status, movableSince: s.movableSince, onHold: !!s.hold, inException: !!s.exception, refundPending: !!s.refund.pending };
}

/** `now` minus the window: orders movable since at or before this are due (ISO). */
export function afterSalesCutoff(now: string, windowDays: number): string {
  return new Date(Date.parse(now) - windowDays * DAY_MS).toISOString();
}

/**
 * Delivered orders whose after-sales window has passed at `now`, as Archive commands.
 * An order on hold, in exception or with a refund request open is still being dealt with: it
 * is not archived (the Archive transition would refuse it anyway) until that is settled and a
 * whole window has passed since.
 */
export function dueArchives(candidates: readonly DeliveredOrder[], now: string, windowDays: number): UnstampedOrderCommand[] {
  const cutoffMs = Date.parse(afterSalesCutoff(now, windowDays));
  return candidates
    .filter((c) => c.stage === 'delivered' && !c.onHold && !c.inException && !c.refundPending && Date.parse(c.movableSince) <= cutoffMs)
    .map((c) => ({ type: 'Archive', data: { orderId: c.orderId } }));
}
