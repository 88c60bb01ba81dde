import {
  ORDER_EVENT_TYPES,
  Topics,
  type ApprovalEventDataMap,
  type EventEnvelope,
  type FulfillmentEventDataMap,
  type InventoryEventDataMap,
  type NotificationEventDataMap,
  type OrderEventDataMap,
  upcast,
} from '@flowline/contracts';

type EnvelopeOf<M> = { [K in keyof M & string]: EventEnvelope<M[K], K> }[keyof M & string];

export type OrderEvent = EnvelopeOf<OrderEventDataMap>;
export type InventoryEvent = EnvelopeOf<InventoryEventDataMap>;
export type ApprovalEvent = EnvelopeOf<ApprovalEventDataMap>;
export type FulfillmentEvent = EnvelopeOf<FulfillmentEventDataMap>;
export type NotificationEvent = EnvelopeOf<NotificationEventDataMap>;
/** Every integration event tracking reads. Type names are unique across contexts. */
export type TrackedEvent = OrderEvent | InventoryEvent | ApprovalEvent | FulfillmentEvent | NotificationEvent;
export type TrackedEventType = TrackedEvent['type'];

/** The context that published an event (also its topic). */
export type SourceContext = 'orders' | 'inventory' | 'approval' | 'fulfillment' | 'notification';

// Records (not arrays) so the compiler says so when a contract gains an event type we do not list.
const INVENTORY_TYPES: Record<keyof InventoryEventDataMap, true> = {
  StockReserved: true, StockShortage: true, StockReleased: true, StockCommitted: true, StockReceived: true,
  StockAdjusted: true, StockLevelChanged: true, AvailableToPromiseChanged: true, LowStockAlerted: true, StockWentNegative: true,
  StockLinesReleased: true,
};
const APPROVAL_TYPES: Record<keyof ApprovalEventDataMap, true> = {
  ApprovalRequested: true, ApprovalStepApproved: true, ApprovalGranted: true, ApprovalRejected: true, ApprovalWithdrawn: true,
  ApprovalStepSkipped: true, ApprovalStepStarted: true, ApprovalStepDelegated: true, ApprovalVoteRecorded: true, ApprovalReturned: true,
  ApprovalResubmitted: true, ApprovalStepReminded: true, ApprovalStepEscalated: true, ApprovalExpired: true,
  ApprovalFreezeOverridden: true, ChangeApproved: true, ChangeRefused: true,
};
const FULFILLMENT_TYPES: Record<keyof FulfillmentEventDataMap, true> = {
  ShipmentPacked: true, ShipmentShipped: true, ShipmentDelivered: true, FulfillmentStopped: true,
  ShipmentInterceptRequested: true, ShipmentTrackingUpdated: true, ShipmentCarrierException: true, FreezeOverridden: true,
  ReturnRequested: true, ReturnReceived: true, WorkOrderProgressed: true,
};
const NOTIFICATION_TYPES: Record<keyof NotificationEventDataMap, true> = { NotificationSent: true, NotificationFailed: true, NotificationSuppressed: true };
const ORDER_TYPES = new Set<string>(ORDER_EVENT_TYPES);

export const INVENTORY_EVENT_TYPES = Object.keys(INVENTORY_TYPES) as (keyof InventoryEventDataMap)[];
export const APPROVAL_EVENT_TYPES = Object.keys(APPROVAL_TYPES) as (keyof ApprovalEventDataMap)[];
export const FULFILLMENT_EVENT_TYPES = Object.keys(FULFILLMENT_TYPES) as (keyof FulfillmentEventDataMap)[];
export const NOTIFICATION_EVENT_TYPES = Object.keys(NOTIFICATION_TYPES) as (keyof NotificationEventDataMap)[];
export const TRACKED_EVENT_TYPES: TrackedEventType[] = [...ORDER_EVENT_TYPES, ...INVENTORY_EVENT_TYPES, ...APPROVAL_EVENT_TYPES, ...FULFILLMENT_EVENT_TYPES, ...NOTIFICATION_EVENT_TYPES];

/** The logical topics tracking consumes, with the context each belongs to. */
export const TRACKED_TOPICS: Record<SourceContext, string> = {
  orders: Topics.orderEvents,
  inventory: Topics.inventoryEvents,
  approval: Topics.approvalEvents,
  fulfillment: Topics.fulfillmentEvents,
  notification: Topics.notificationEvents,
};

/** Which context published an event type; undefined for a type tracking does not know. */
export function contextOf(type: string): SourceContext | undefined {
  if (ORDER_TYPES.has(type)) return 'orders';
  if (type in INVENTORY_TYPES) return 'inventory';
  if (type in APPROVAL_TYPES) return 'approval';
  if (type in FULFILLMENT_TYPES) return 'fulfillment';
  if (type in NOTIFICATION_TYPES) return 'notification';
  return undefined;
}

/**
 * Narrows a decoded envelope to an event tracking understands: a tracked type, lifted to its current
 * schema version by the contracts' upcasters. Undefined for a type tracking does not track or a
 * version this build cannot read (newer than it knows): the message then projects nothing, live and
 * in a rebuild alike, and a rebuild after upgrading picks it up.
 */
export function asTrackedEvent(envelope: EventEnvelope): TrackedEvent | undefined {
  if (contextOf(envelope.type) === undefined) return undefined;
  if (envelope.schemaVersion === 1) return envelope as TrackedEvent;
  try {
    return upcast(envelope) as TrackedEvent;
  } catch {
    return undefined;
  }
}

export function isOrderEvent(e: TrackedEvent): e is OrderEvent {
  return ORDER_TYPES.has(e.type);
}

/** The order an event is about; undefined for SKU-level stock events (levels, ATP, receipts). */
export function orderIdOf(e: TrackedEvent): string | undefined {
  const data = e.data as { orderId?: unknown };
  return typeof data.orderId === 'string' && data.orderId !== '' ? data.orderId : undefined;
}
