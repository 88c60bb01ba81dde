import type { Allocation, Invoice, OrderStage } from '@flowline/contracts';
import type { RuleDecisionRecord } from './order.commands';
import type { CanonicalOrder } from './order.model';

export interface Payment {
  /** Paid so far (integer fen): a presale order's deposit, then deposit + balance. */
  amount: number;
  currency: string;
  paymentRef?: string;
  /** When Flowline recorded the (first) payment: the flow's timers count from it. */
  paidAt: string;
  /** When the customer paid, as the platform or provider reported it; absent when not reported. */
  reportedPaidAt?: string;
  /** Presale: when the balance (尾款) was paid; absent while it is due. */
  balancePaidAt?: string;
}

export interface Reservation {
  reservationId: string;
  allocations: Allocation[];
  /** Every line's quantity is covered by allocations. */
  allLinesReserved: boolean;
  reservedAt: string;
}

export interface Approval {
  chain: string;
  ruleId: string;
  ruleSetVersion: string;
  status: 'pending' | 'granted' | 'rejected';
  approvalId?: string;
  requiredAt: string;
}

export interface Release {
  priority: 'normal' | 'high';
  freeShipping: boolean;
  requiresQc: boolean;
  releasedAt: string;
}

export interface Shipment {
  shipmentId: string;
  waybillNo?: string;
  carrier?: string;
  trackingNumber?: string;
  packedAt?: string;
  shippedAt?: string;
  deliveredAt?: string;
}

export interface RefundState {
  /** An open refund request, or null. */
  pending: { amount: number; reason: string; stageAtRequest: OrderStage; requestedAt: string } | null;
  /** Sum of refunds recorded so far (integer fen). */
  refundedTotal: number;
}

/** What every existing order carries, whatever its stage. */
export interface OrderData {
  orderId: string;
  order: CanonicalOrder;
  /** Flag: stopped by a person or a rule, with the reason. */
  hold: { reason: string; ruleId?: string; since: string } | null;
  /** Flag: something went wrong that a person must look at (shortage, timeout, ...). */
  exception: { code: string; reason: string; details?: Record<string, unknown>; since: string } | null;
  payment: Payment | null;
  reservation: Reservation | null;
  /**
   * What inventory could not reserve, as last reported; `refusals`: how many times it refused since
   * the order last had stock reserved (the shortage retry backs off on it). Cleared by a reservation.
   */
  shortage: { missing: { sku: string; requested: number; available: number }[]; reportedAt: string; refusals?: number } | null;
  approval: Approval | null;
  release: Release | null;
  shipment: Shipment | null;
  refund: RefundState;
  /** Rules whose hold a person released: the rule engine does not hold the order again for them. */
  overriddenHoldRules: string[];
  /** Every flow-rule decision recorded on this order, oldest first. */
  decisions: (RuleDecisionRecord & { decidedAt: string })[];
  /** When the order last entered its current stage (ISO). */
  stageSince: string;
  /** When the order last became able to move on (stage entered, hold released or exception resolved). */
  movableSince: string;
  /** Change requests already applied or refused (a redelivered ChangeApproved does nothing). */
  changeRequests?: string[];
  /** Inventory reservations holding what applied changes added (`chg-<approvalId>`): committed on shipment, released on cancel. */
  changeReservations?: string[];
  /** Carrier service an applied change asked for (none: the warehouse's default). */
  shippingMethod?: string;
  /** Invoice information an applied change set (发票). */
  invoice?: Invoice;
  /** What applied changes made due from the customer on a paid order (the order is held while it is). */
  paymentDue?: { amount: number; approvalId: string; changeRequestId: string; since: string } | null;
  /** What applied changes owe back to the customer on a paid order, until finance confirms the refund. */
  partialRefund?: { amount: number; approvalId: string; changeRequestId: string; requestedAt: string } | null;
}

/** Stages in which an order is still moving (not archived, cancelled or refunded). */
export type OpenStage = Exclude<OrderStage, 'archived' | 'cancelled' | 'refunded'>;

export type NoOrder = { status: 'none' };
export type OpenOrder = OrderData & { status: OpenStage };
export type ArchivedOrder = OrderData & { status: 'archived'; archivedAt: string };
export type CancelledOrder = OrderData & { status: 'cancelled'; cancellation: { reason: string; stageAtCancel: OrderStage; cancelledAt: string } };
export type RefundedOrder = OrderData & { status: 'refunded'; refundedAt: string };

/** The order aggregate's state: a discriminated union on `status`. */
export type OrderState = NoOrder | OpenOrder | ArchivedOrder | CancelledOrder | RefundedOrder;
export type ExistingOrder = Exclude<OrderState, NoOrder>;

export function isExisting(s: OrderState): s is ExistingOrder {
  return s.status !== 'none';
}

/** Money still owed back to the buyer: an open request, or a paid order that was cancelled. */
export function refundOwed(s: ExistingOrder): number {
  if (s.refund.pending) return s.refund.pending.amount;
  if (s.status === 'cancelled' && s.payment) return Math.max(0, s.payment.amount - s.refund.refundedTotal);
  return s.partialRefund?.amount ?? 0;
}

/** What an applied change made due on a paid order and is not paid yet (fen). */
export function changePaymentDue(s: ExistingOrder): number {
  return s.paymentDue?.amount ?? 0;
}

/** Paid amount not yet refunded. */
export function refundable(s: ExistingOrder): number {
  return s.payment ? s.payment.amount - s.refund.refundedTotal : 0;
}

/** Presale (预售) order whose balance (尾款) is still unpaid after the deposit. */
export function presaleBalanceDue(s: ExistingOrder): boolean {
  return !!s.order.presale && !!s.payment && s.payment.amount < s.order.totals.grandTotal;
}

/** Cash on delivery (货到付款): ships unpaid, the collected amount is recorded at delivery. */
export function isCod(s: ExistingOrder): boolean {
  return s.order.paymentMethod === 'cod';
}

/**
 * May a presale order be released to fulfillment at `now`: balance paid and the ship date reached.
 * Any other order: always.
 */
export function presaleSettled(s: ExistingOrder, now: string): boolean {
  const p = s.order.presale;
  if (!p) return true;
  return !!s.payment && s.payment.amount >= s.order.totals.grandTotal && Date.parse(now) >= Date.parse(p.shipNotBefore);
}
