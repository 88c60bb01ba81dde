import type { Principal } from '@flowline/auth';
import type { TrackingOrderDetailView, TrackingTimelineEntryView } from '@flowline/contracts';

/** A buyer's token (the portal): customer and nothing else. */
export const onlyCustomer = (p: Principal): boolean => p.roles.length === 1 && p.roles[0] === 'customer';

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
  'OrderApprovalRequired',
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
 * reasons written for colleagues (holds, reveals of personal data, exception codes), rule
 * decisions, stock and approval steps and the notification log stay internal.
 */
export function customerView(detail: TrackingOrderDetailView): TrackingOrderDetailView {
  const { approvalChains: _internal, ...rest } = detail;
  return {
    ...rest,
    order: { ...detail.order, holdReason: null, exceptionCode: null, exceptionReason: null, lastRule: null, approvalChain: null },
    timeline: detail.timeline.filter(forCustomer).map(
      (e): TrackingTimelineEntryView => ({ ...e, actor: null, who: e.actor?.kind === 'customer' ? YOU : SELLER, why: null, rule: null, correlationId: '', causationId: null }),
    ),
  };
}

function forCustomer(e: TrackingTimelineEntryView): boolean {
  if (e.context === 'fulfillment') return CUSTOMER_PARCEL_EVENTS.has(e.type);
  return e.context === 'orders' && CUSTOMER_ORDER_EVENTS.has(e.type);
}
