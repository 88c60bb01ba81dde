import type { EventEnvelope } from '../envelope';
import type { ApprovalCommandDataMap, ApprovalCommandType, ApprovalEventDataMap, ApprovalEventType } from '../approval/approval.messages';
import type { FulfillmentCommandDataMap, FulfillmentCommandType, FulfillmentEventDataMap, FulfillmentEventType } from '../fulfillment/fulfillment.messages';
import type { InventoryCommandDataMap, InventoryCommandType, InventoryEventDataMap, InventoryEventType } from '../inventory/inventory.messages';
import type { NotificationEventDataMap, NotificationEventType } from '../notification/notification.messages';
import type { OrderCommandDataMap, OrderCommandType } from '../orders/order.commands';
import type { OrderEventDataMap, OrderEventType } from '../orders/order.events';
import type { TrackingEventDataMap, TrackingEventType } from '../tracking/tracking.messages';
import { Topics } from '../topics';
import { createEventRegistry, type ContractDefinition, type ContractKind, type EventRegistry, type Upcaster } from './event-registry';

/** Contexts whose integration events and commands are in the registry. */
export const BOUNDED_CONTEXTS = ['orders', 'inventory', 'approval', 'fulfillment', 'notification', 'tracking'] as const;
export type BoundedContext = (typeof BOUNDED_CONTEXTS)[number];

/** Payload of every Flowline integration event and command, by type (type names are unique across contexts). */
export type ContractDataMap = OrderEventDataMap &
  OrderCommandDataMap &
  InventoryEventDataMap &
  InventoryCommandDataMap &
  ApprovalEventDataMap &
  ApprovalCommandDataMap &
  FulfillmentEventDataMap &
  FulfillmentCommandDataMap &
  NotificationEventDataMap &
  TrackingEventDataMap;

/** Name of any Flowline integration event or command. */
export type ContractType = keyof ContractDataMap;

/** The envelope of one contract type, at its current schema version. */
export type ContractEnvelope<T extends ContractType = ContractType> = EventEnvelope<ContractDataMap[T], T>;

/** Any Flowline envelope, discriminated on `type` (`switch (e.type)` narrows `e.data`). */
export type AnyContractEnvelope = { [T in ContractType]: ContractEnvelope<T> }[ContractType];

type PartitionKey = 'orderId' | 'sku';

interface Catalogue<K extends string> {
  context: BoundedContext;
  kind: ContractKind;
  topic: string;
  /** Current schema version of each type: every type of the context, no other (the annotation checks both). */
  versions: Record<K, number>;
  /** Types keyed by something other than `orderId`. */
  keyedBy?: Partial<Record<K, PartitionKey>>;
  /** Types that travel on another topic than the context's `topic`. */
  topicOf?: Partial<Record<K, string>>;
}

// Current versions. All v1 today. To change a published payload in a way that is not an additive
// optional field: bump the number here, keep the old shape readable by adding an upcaster from
// the previous version to UPCASTERS below, and add a fixture `<Type>.v<N>.json` and a test per version.
const ORDER_EVENTS: Catalogue<OrderEventType> = {
  context: 'orders',
  kind: 'event',
  topic: Topics.orderEvents,
  versions: {
    OrderPlaced: 1,
    OrderPaid: 1,
    OrderStockReserved: 1,
    OrderStockShortage: 1,
    OrderRuleDecided: 1,
    OrderApprovalRequired: 1,
    OrderApproved: 1,
    OrderApprovalRejected: 1,
    OrderReadyToShip: 1,
    OrderPacked: 1,
    OrderShipped: 1,
    OrderDelivered: 1,
    OrderArchived: 1,
    OrderCancelled: 1,
    OrderRefundRequested: 1,
    OrderRefunded: 1,
    OrderPutOnHold: 1,
    OrderHoldReleased: 1,
    OrderExceptionFlagged: 1,
    OrderExceptionResolved: 1,
    OrderChanged: 1,
    OrderChangeRefused: 1,
    OrderPaymentDue: 1,
    OrderPartialRefundRequested: 1,
    OrderPartialRefunded: 1,
    OrderPiiRevealed: 1,
  },
};

/** Private to order-intake: approval's ApplyOrderChange (clear personal data of a change). */
const ORDER_COMMANDS: Catalogue<OrderCommandType> = {
  context: 'orders',
  kind: 'command',
  topic: Topics.orderCommands,
  versions: { ApplyOrderChange: 1 },
};

const INVENTORY_EVENTS: Catalogue<InventoryEventType> = {
  context: 'inventory',
  kind: 'event',
  topic: Topics.inventoryEvents,
  versions: {
    StockReserved: 1,
    StockShortage: 1,
    StockReleased: 1,
    StockCommitted: 1,
    StockReceived: 1,
    StockAdjusted: 1,
    StockLevelChanged: 1,
    AvailableToPromiseChanged: 1,
    LowStockAlerted: 1,
    StockLinesReleased: 1,
    StockWentNegative: 1,
  },
  // Stock order matters per SKU for levels and ATP; reservation outcomes follow their order.
  keyedBy: { StockReceived: 'sku', StockAdjusted: 'sku', StockLevelChanged: 'sku', AvailableToPromiseChanged: 'sku', LowStockAlerted: 'sku' },
  // The stock facts on their own topic (ADR 0023): most consumers read only the reservation outcomes.
  topicOf: {
    StockReceived: Topics.inventoryStock,
    StockAdjusted: Topics.inventoryStock,
    StockLevelChanged: Topics.inventoryStock,
    AvailableToPromiseChanged: Topics.inventoryStock,
    LowStockAlerted: Topics.inventoryStock,
  },
};

const INVENTORY_COMMANDS: Catalogue<InventoryCommandType> = {
  context: 'inventory',
  kind: 'command',
  topic: Topics.inventoryCommands,
  versions: { ReserveStock: 1, ReleaseStock: 1, CommitStock: 1, ReleaseStockLines: 1 },
};

const APPROVAL_EVENTS: Catalogue<ApprovalEventType> = {
  context: 'approval',
  kind: 'event',
  topic: Topics.approvalEvents,
  versions: {
    ApprovalRequested: 1,
    ApprovalStepApproved: 1,
    ApprovalGranted: 1,
    ApprovalRejected: 1,
    ApprovalWithdrawn: 1,
    ApprovalStepSkipped: 1,
    ApprovalStepStarted: 1,
    ApprovalStepDelegated: 1,
    ApprovalVoteRecorded: 1,
    ApprovalReturned: 1,
    ApprovalResubmitted: 1,
    ApprovalStepReminded: 1,
    ApprovalStepEscalated: 1,
    ApprovalExpired: 1,
    ApprovalFreezeOverridden: 1,
    ChangeApproved: 1,
    ChangeRefused: 1,
  },
};

const APPROVAL_COMMANDS: Catalogue<ApprovalCommandType> = {
  context: 'approval',
  kind: 'command',
  topic: Topics.approvalCommands,
  versions: { RequestApproval: 1, WithdrawApproval: 1 },
};

const FULFILLMENT_EVENTS: Catalogue<FulfillmentEventType> = {
  context: 'fulfillment',
  kind: 'event',
  topic: Topics.fulfillmentEvents,
  versions: {
    ShipmentPacked: 1,
    ShipmentShipped: 1,
    ShipmentDelivered: 1,
    FulfillmentStopped: 1,
    ShipmentInterceptRequested: 1,
    ShipmentTrackingUpdated: 1,
    ShipmentCarrierException: 1,
    FreezeOverridden: 1,
    ReturnRequested: 1,
    ReturnReceived: 1,
    WorkOrderProgressed: 1,
  },
};

const FULFILLMENT_COMMANDS: Catalogue<FulfillmentCommandType> = {
  context: 'fulfillment',
  kind: 'command',
  topic: Topics.fulfillmentCommands,
  versions: { StartFulfillment: 1, StopFulfillment: 1, HoldFulfillment: 1, ResumeFulfillment: 1 },
};

const NOTIFICATION_EVENTS: Catalogue<NotificationEventType> = {
  context: 'notification',
  kind: 'event',
  topic: Topics.notificationEvents,
  versions: { NotificationSent: 1, NotificationFailed: 1, NotificationSuppressed: 1 },
};

const TRACKING_EVENTS: Catalogue<TrackingEventType> = {
  context: 'tracking',
  kind: 'event',
  topic: Topics.trackingEvents,
  versions: { OrderSlaTurnedYellow: 1, OrderSlaTurnedRed: 1, OrderStuck: 1 },
};

/**
 * Upcasters of the published contracts, by type: one per older version, e.g.
 * `OrderPaid: [upcaster<OrderPaidV1, OrderPaidV2>(1, (d) => ({ ...d, method: 'unknown' }))]`.
 * None yet: every contract is at v1.
 */
const UPCASTERS: Partial<Record<ContractType, readonly Upcaster[]>> = {};

function definitionsOf<K extends string>(c: Catalogue<K>): ContractDefinition[] {
  return (Object.keys(c.versions) as K[]).map((type) => ({
    type,
    context: c.context,
    kind: c.kind,
    schemaVersion: c.versions[type],
    topic: c.topicOf?.[type] ?? c.topic,
    partitionKey: c.keyedBy?.[type] ?? 'orderId',
    upcasters: UPCASTERS[type as unknown as ContractType] ?? [],
  }));
}

/** Every Flowline integration event and command with its current version, topic and key. */
export const FLOWLINE_CONTRACTS: readonly ContractDefinition[] = Object.freeze([
  ...definitionsOf(ORDER_EVENTS),
  ...definitionsOf(ORDER_COMMANDS),
  ...definitionsOf(INVENTORY_EVENTS),
  ...definitionsOf(INVENTORY_COMMANDS),
  ...definitionsOf(APPROVAL_EVENTS),
  ...definitionsOf(APPROVAL_COMMANDS),
  ...definitionsOf(FULFILLMENT_EVENTS),
  ...definitionsOf(FULFILLMENT_COMMANDS),
  ...definitionsOf(NOTIFICATION_EVENTS),
  ...definitionsOf(TRACKING_EVENTS),
]);

/** The registry of Flowline's published contracts (built once; throws at load if a chain is broken). */
export const contractRegistry: EventRegistry = createEventRegistry(FLOWLINE_CONTRACTS);

/** True when `type` names a Flowline integration event or command. */
export function isContractType(type: string): type is ContractType {
  return contractRegistry.has(type);
}

/**
 * Lifts a Flowline envelope to its type's current schema version (see {@link EventRegistry.upcast}).
 * Throws `EnvelopeError` for an unknown type or version.
 */
export function upcast(envelope: EventEnvelope): AnyContractEnvelope {
  return contractRegistry.upcast(envelope) as AnyContractEnvelope;
}

/**
 * Parses a Flowline envelope (a Kafka message value, a fixture), validates its shape, refuses
 * unknown types and versions, and upcasts it to the current version (see {@link EventRegistry.decode}).
 * The payload's own fields are not checked here: they are typed by `type` and validated where
 * they enter the system.
 */
export function decodeEnvelope(json: string | Uint8Array): AnyContractEnvelope {
  return contractRegistry.decode(json) as AnyContractEnvelope;
}
