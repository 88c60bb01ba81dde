import type { TrackingOrderChange, TrackingOrderDetailView, TrackingOrderView, TrackingTimelineEntryView } from '@flowline/contracts';

/** Parcel events a buyer follows; the rest of fulfillment's (intercepts, scans) is the warehouse's. */
const CUSTOMER_PARCEL_EVENTS = new Set(['ShipmentPacked', 'ShipmentShipped', 'ShipmentTrackingUpdated', 'ShipmentDelivered', 'ShipmentCarrierException']);

/**
 * Order events a buyer follows: the ones that move the stage (order-summary.projection.ts
 * `stageAfter`), and those about their address or money. A timeline entry's `stageAfter` is the
 * stage after *any* event (a hold keeps it), so it cannot tell them apart.
 */
const CUSTOMER_ORDER_EVENTS = new Set([
  'OrderPlaced',
  'OrderPaid',
  'OrderStockReserved',
  'OrderReadyToShip',
  'OrderPacked',
  'OrderShipped',
  'OrderDelivered',
  'OrderArchived',
  'OrderCancelled',
  'OrderRefunded',
  'OrderChanged',
  'OrderRefundRequested',
  'OrderPartialRefundRequested',
  'OrderPartialRefunded',
  'OrderPaymentDue',
]);

const SELLER = { zh: '商家', en: 'Seller' };
const YOU = { zh: '您', en: 'You' };

/**
 * An order as its buyer may see it (portal, a customer token): the journey (stage changes and parcel
 * events), with who acted named only as the seller or the buyer themselves. Staff names and roles,
 * reasons written for colleagues (holds, reveals of personal data, exception codes), the order's
 * flags, SLA stall and priority, rule decisions, stock and approval steps, the warehouse a parcel
 * left from and the notification log stay internal.
 */
export function customerView(detail: TrackingOrderDetailView): TrackingOrderDetailView {
  const { approvalChains: _internal, ...rest } = detail;
  return {
    ...rest,
    // The stage stays (the portal words it); the staff's flags, notes, SLA stall and priority do not.
    order: { ...detail.order, flags: [], holdReason: null, exceptionCode: null, exceptionReason: null, lastRule: null, approvalChain: null, manualTouch: false, stuck: false, stuckAt: null, priority: 'normal' },
    ...(detail.shipments ? { shipments: detail.shipments.map((x) => ({ ...x, warehouseId: null })) } : {}),
    timeline: detail.timeline.filter(forCustomer).map(
      (e): TrackingTimelineEntryView => ({ ...e, actor: null, who: e.actor?.kind === 'customer' ? YOU : SELLER, why: null, rule: null, correlationId: '', causationId: null }),
    ),
  };
}

function forCustomer(e: TrackingTimelineEntryView): boolean {
  if (e.context === 'fulfillment') return CUSTOMER_PARCEL_EVENTS.has(e.type);
  return e.context === 'orders' && CUSTOMER_ORDER_EVENTS.has(e.type);
}

/** Payment and refund entries of the timeline: their `why` carries the payment reference. */
const MONEY_EVENTS = new Set(['OrderPaid', 'OrderRefunded', 'OrderRefundRequested', 'OrderPartialRefundRequested', 'OrderPartialRefunded', 'OrderPaymentDue']);

/**
 * An order as staff who may not read its payment fields (warehouse, ADR 0018's field rule) see it:
 * without the paid and refunded amounts and without the payment references the money entries of
 * the timeline give as their reason. The totals stay (order-intake keeps them for these roles too).
 */
export function withoutPayment<T extends { order: TrackingOrderView; timeline: TrackingTimelineEntryView[] }>(detail: T): T {
  return { ...detail, order: orderWithoutPayment(detail.order), timeline: detail.timeline.map(entryWithoutPayment) };
}

/** A live change as withoutPayment gives the order (its summary and the entry that moved it). */
export function changeWithoutPayment(c: TrackingOrderChange): TrackingOrderChange {
  return c.kind === 'order' ? { ...c, order: orderWithoutPayment(c.order), entry: c.entry ? entryWithoutPayment(c.entry) : null } : c;
}

function entryWithoutPayment(e: TrackingTimelineEntryView): TrackingTimelineEntryView {
  return e.context === 'orders' && MONEY_EVENTS.has(e.type) ? { ...e, why: null } : e;
}

/**
 * The order summary without its paid and refunded amounts: left out, as order-intake's field rule
 * leaves out `payment` and `refund` (over gRPC they read as the proto default).
 */
export function orderWithoutPayment<T extends TrackingOrderView>(order: T): T {
  const { paidAmount: _paid, refundedAmount: _refunded, ...rest } = order;
  return rest as T;
}
