import type { Allocation, Invoice, OrderLineInput, OrderStage, OrderTotals, PiiField, RuleDecisionKind, ShippingAddress } from '@flowline/contracts';
import type { CanonicalOrder } from './order.model';

type Evt<T extends string, D> = { type: T; data: { orderId: string } & D };

/**
 * The order's stored (domain) events, in stream `order-<orderId>`. Past tense, plain JSON, ISO
 * times, integer fen. They carry full PII (names, phones, street) and stay in order-intake; the
 * relay maps them to the masked integration events of libs/contracts (OrderEventDataMap).
 */
export type OrderEvent =
  | Evt<'OrderPlaced', { order: CanonicalOrder; placedAt: string; receivedAt: string }>
  /** A presale order is paid in two parts (`presalePart` deposit, then balance: `amount` is that part); absent for a full payment. */
  /** `changeRequestId`: the payment of what an applied change made due (OrderPaymentDue). */
  /** `paidAt`: recorded (the timers count from it); `reportedPaidAt`: when the customer paid, as the caller reported it. */
  | Evt<'OrderPaid', { amount: number; currency: string; paymentRef?: string; presalePart?: 'deposit' | 'balance'; changeRequestId?: string; paidAt: string; reportedPaidAt?: string }>
  | Evt<'OrderStockReserved', { reservationId: string; allocations: Allocation[]; allLinesReserved: boolean; reservedAt: string }>
  | Evt<'OrderStockShortage', { missing: { sku: string; requested: number; available: number }[]; reportedAt: string }>
  | Evt<'OrderRuleDecided', { ruleId: string; ruleSetVersion: string; ruleSetHash: string; decision: RuleDecisionKind; params?: Record<string, unknown>; decidedAt: string }>
  | Evt<'OrderApprovalRequired', { chain: string; ruleId: string; ruleSetVersion: string; ruleSetHash: string; requiredAt: string }>
  | Evt<'OrderApproved', { chain: string; approvalId: string; approvedAt: string }>
  | Evt<'OrderApprovalRejected', { chain: string; approvalId: string; reason: string; rejectedBy?: string; rejectedAt: string }>
  | Evt<'OrderReadyToShip', { priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean; releasedAt: string }>
  | Evt<'OrderPacked', { shipmentId: string; waybillNo?: string; packedAt: string }>
  | Evt<'OrderShipped', { shipmentId: string; carrier: string; trackingNumber: string; shippedAt: string }>
  | Evt<'OrderDelivered', { deliveredAt: string }>
  | Evt<'OrderArchived', { archivedAt: string }>
  | Evt<'OrderCancelled', { reason: string; stageAtCancel: OrderStage; cancelledAt: string }>
  | Evt<'OrderRefundRequested', { amount: number; reason: string; stageAtRequest: OrderStage; requestedAt: string }>
  | Evt<'OrderRefunded', { amount: number; afterShipment: boolean; refundedAt: string }>
  | Evt<'OrderPutOnHold', { reason: string; ruleId?: string; heldAt: string }>
  | Evt<'OrderHoldReleased', { reason: string; releasedAt: string }>
  | Evt<'OrderExceptionFlagged', { code: string; reason: string; details?: Record<string, unknown>; flaggedAt: string }>
  | Evt<'OrderExceptionResolved', { reason: string; resolvedAt: string }>
  | Evt<
      'OrderChanged',
      {
        approvalId: string;
        changeRequestId: string;
        lines: OrderLineInput[];
        totals: OrderTotals;
        changes: { added: string[]; removed: string[]; quantities: { lineId: string; before: number; after: number }[] };
        priceDifference: number;
        reservationId?: string;
        allocations?: Allocation[];
        reopenedShipmentId?: string;
        /** The whole new address (clear: stored events stay in order-intake; the relay masks it). */
        shippingAddress?: ShippingAddress;
        shippingMethod?: string;
        invoice?: Invoice;
        changedAt: string;
      }
    >
  | Evt<'OrderChangeRefused', { approvalId: string; changeRequestId: string; reason: string; stage: OrderStage; shipmentId?: string; refusedAt: string }>
  /** A change raised the price of a paid order: `amount` is the total now due (0: cancelled out by a later change). */
  | Evt<'OrderPaymentDue', { approvalId: string; changeRequestId: string; amount: number; priceDifference: number; currency: string; dueAt: string }>
  /** A change lowered the price of a paid order: `amount` is the total to give back (confirmed by RecordRefunded). */
  | Evt<'OrderPartialRefundRequested', { approvalId: string; changeRequestId: string; amount: number; priceDifference: number; currency: string; reason: string; requestedAt: string }>
  | Evt<'OrderPartialRefunded', { changeRequestId: string; amount: number; refundedAt: string }>
  /**
   * An audit fact, not a transition: a person saw these personal fields unmasked, for this reason
   * (the actor is the event's metadata). Changes no state; carries field names, never values.
   */
  | Evt<'OrderPiiRevealed', { fields: PiiField[]; reason: string; revealedAt: string }>;

export type OrderEventType = OrderEvent['type'];
export type OrderEventOf<T extends OrderEventType> = Extract<OrderEvent, { type: T }>;

/** Stream of one order. */
export const orderStreamId = (orderId: string): string => `order-${orderId}`;
export const ORDER_STREAM_PREFIX = 'order-';

export type { OrderTotals };
