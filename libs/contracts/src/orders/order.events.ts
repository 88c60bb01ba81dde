import type { InvoiceView } from '../approval/approval.messages';
import type { AddressView, Channel, CustomerRef, OrderLineView, OrderStage, OrderTotals, PaymentMethod, PresaleTerms, RecipientProtection } from './order.types';

/**
 * Integration events of the orders context, published on `orders.events.v1` keyed by orderId.
 * Every payload carries `orderId`. Times are ISO strings; money is integer minor units.
 */
export interface OrderEventDataMap {
  OrderPlaced: {
    orderId: string;
    channel: Channel;
    channelOrderId: string;
    shopId: string;
    customer: CustomerRef;
    shippingAddress: AddressView;
    lines: OrderLineView[];
    totals: OrderTotals;
    buyerMessage?: string;
    tags: string[];
    attachments: string[];
    placedAt: string;
    /** Present when the recipient must be resolved through the platform (masked / encrypted / withheld fields, oaid). */
    recipientProtection?: RecipientProtection;
    /** `cod` (货到付款): shipped unpaid, the carrier collects the grand total. Absent: online. */
    paymentMethod?: PaymentMethod;
    /** Presale (预售) terms: deposit, balance due-by, ship date. */
    presale?: PresaleTerms;
  };
  /**
   * `presalePart`: a presale order is paid twice, the deposit then the balance (`amount` is that part); absent for a full payment.
   * `changeRequestId`: the payment of what an applied change made due (OrderPaymentDue); `amount` is that part.
   * `paidAt`: when Flowline recorded the payment. `reportedPaidAt`: when the customer paid, as the
   * platform or payment provider reported it (an imported order's 付款时间, often hours before the
   * import); absent when none was reported. Cycle times, KPIs and reconciliation count from
   * `reportedPaidAt ?? paidAt` (customerPaidAt).
   */
  OrderPaid: { orderId: string; amount: number; currency: string; paymentRef?: string; presalePart?: 'deposit' | 'balance'; changeRequestId?: string; paidAt: string; reportedPaidAt?: string };
  /** Stock is locked for every line. */
  OrderStockReserved: { orderId: string; reservationId: string; allocations: { lineId: string; sku: string; warehouseId: string; quantity: number }[] };
  /** Inventory could not reserve; the order goes to exception. */
  OrderStockShortage: { orderId: string; missing: { sku: string; requested: number; available: number }[] };
  /** A flow rule fired; `ruleId` and `ruleSetVersion` say why, for the timeline. */
  OrderRuleDecided: {
    orderId: string;
    ruleId: string;
    ruleSetVersion: string;
    decision: RuleDecisionKind;
    params?: Record<string, unknown>;
    /** Content hash of the rule file that decided (`sha256:` + 12 hex), so an edited file without a version bump still shows. */
    ruleSetHash?: string;
  };
  OrderApprovalRequired: { orderId: string; chain: string; ruleId: string; ruleSetVersion: string; ruleSetHash?: string };
  OrderApproved: { orderId: string; chain: string; approvalId: string };
  OrderApprovalRejected: { orderId: string; chain: string; approvalId: string; reason: string; rejectedBy?: string };
  OrderReadyToShip: { orderId: string; priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean };
  OrderPacked: { orderId: string; shipmentId: string; waybillNo?: string };
  /** `shippedAt`: when the parcel was handed to the carrier (the last parcel of several); ISO. */
  OrderShipped: { orderId: string; shipmentId: string; carrier: string; trackingNumber: string; shippedAt?: string };
  OrderDelivered: { orderId: string; deliveredAt: string };
  OrderArchived: { orderId: string };
  /** Terminal. `stageAtCancel` tells consumers whether stock was reserved or packing begun. */
  OrderCancelled: { orderId: string; reason: string; stageAtCancel: OrderStage };
  OrderRefundRequested: { orderId: string; amount: number; reason: string; stageAtRequest: OrderStage };
  /** Terminal when before shipment; after shipment it is recorded for the returns flow. */
  OrderRefunded: { orderId: string; amount: number; afterShipment: boolean };
  /** `ruleId` is set when a flow rule (not a person) put the order on hold. */
  OrderPutOnHold: { orderId: string; reason: string; ruleId?: string };
  OrderHoldReleased: { orderId: string; reason: string };
  OrderExceptionFlagged: { orderId: string; code: string; reason: string; details?: Record<string, unknown> };
  OrderExceptionResolved: { orderId: string; reason: string };
  /**
   * An approved change request (approval's ChangeApproved) applied as ONE event: the lines and
   * totals after the change, what changed, the price difference (> 0 due from the customer, < 0
   * owed back) and the extra reservation holding added units.
   */
  OrderChanged: {
    orderId: string;
    approvalId: string;
    changeRequestId: string;
    lines: OrderLineView[];
    totals: OrderTotals;
    changes: { added: string[]; removed: string[]; quantities: { lineId: string; before: number; after: number }[] };
    priceDifference: number;
    reservationId?: string;
    allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[];
    /** Applied after packing under a manager override: this packed shipment was re-opened (the order is ready_to_ship again). */
    reopenedShipmentId?: string;
    /** The new shipping address, masked (the change moved the order). */
    shippingAddress?: AddressView;
    /** The new carrier service, when the change set one. */
    shippingMethod?: string;
    /** The new invoice information, masked. */
    invoice?: InvoiceView;
  };
  /** An approved change the order could no longer take (packed or later in the meantime): nothing changed. */
  OrderChangeRefused: { orderId: string; approvalId: string; changeRequestId: string; reason: string; stage: OrderStage; shipmentId?: string };
  /**
   * An applied change raised the price of a paid order: `amount` (fen) is now due from the
   * customer (the total due, earlier changes' unpaid differences included; 0: a later change
   * cancelled it out). ConfirmPayment of exactly `amount` clears it (OrderPaid with
   * `changeRequestId`); until then the order is held (not released to fulfillment) unless it is
   * cash on delivery or a person releases the hold.
   */
  OrderPaymentDue: { orderId: string; approvalId: string; changeRequestId: string; amount: number; priceDifference: number; currency: string };
  /**
   * An applied change lowered the price of a paid order: `amount` (fen, the total still to give
   * back) is to be refunded; finance confirms it with the usual refund confirmation
   * (OrderPartialRefunded). The order goes on meanwhile.
   */
  OrderPartialRefundRequested: { orderId: string; approvalId: string; changeRequestId: string; amount: number; priceDifference: number; currency: string; reason: string };
  /** Finance paid back a change's partial refund; the order's stage does not change. */
  OrderPartialRefunded: { orderId: string; changeRequestId: string; amount: number };
  /**
   * A person saw the order's personal data unmasked (issue #16/#17 audited PII reveal): which fields
   * and why; who is the envelope's actor (token subject and client id). Carries no personal data.
   */
  OrderPiiRevealed: { orderId: string; fields: PiiField[]; reason: string; revealedAt: string };
}

/** When the customer paid: the time the platform or provider reported, else when Flowline recorded the payment. */
export function customerPaidAt(d: Pick<OrderEventDataMap['OrderPaid'], 'paidAt' | 'reportedPaidAt'>): string {
  return d.reportedPaidAt ?? d.paidAt;
}

/** Personal fields of an order a reveal can unmask (names of fields, never their values). */
export const PII_FIELDS = ['customer.name', 'customer.phone', 'shippingAddress.recipient', 'shippingAddress.phone', 'shippingAddress.street'] as const;
export type PiiField = (typeof PII_FIELDS)[number];

export type RuleDecisionKind = 'require_approval' | 'require_qc' | 'free_shipping' | 'hold_for_review' | 'priority' | 'ready_to_ship';

export type OrderEventType = keyof OrderEventDataMap;
export const ORDER_EVENT_TYPES = [
  'OrderPlaced', 'OrderPaid', 'OrderStockReserved', 'OrderStockShortage', 'OrderRuleDecided', 'OrderApprovalRequired',
  'OrderApproved', 'OrderApprovalRejected', 'OrderReadyToShip', 'OrderPacked', 'OrderShipped', 'OrderDelivered',
  'OrderArchived', 'OrderCancelled', 'OrderRefundRequested', 'OrderRefunded', 'OrderPutOnHold', 'OrderHoldReleased',
  'OrderExceptionFlagged', 'OrderExceptionResolved', 'OrderChanged', 'OrderChangeRefused', 'OrderPaymentDue',
  'OrderPartialRefundRequested', 'OrderPartialRefunded', 'OrderPiiRevealed',
] as const satisfies readonly OrderEventType[];
