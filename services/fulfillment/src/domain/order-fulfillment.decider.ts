import type { CarrierState, FulfillmentCommandDataMap, FulfillmentEventDataMap, ShipmentLineData } from '@flowline/contracts';
import { assertNever, DomainError, type Decider } from '@flowline/domain';
import type { CarrierChoice, CarrierChoiceInput } from './carrier-rules';

/**
 * The fulfilment of one order: its parcels (one per warehouse allocation) from pick list to
 * delivery, and the stop that cancel or refund sends. One stream per order, `fulfillment-<orderId>`,
 * so "every parcel shipped", "stop versus pack" and the freeze are decided on one revision:
 * two concurrent commands cannot both win (the loser is re-decided on the winner's state).
 *
 * Shipment stages: (awaiting_production ->) created -> picking -> packed -> shipped -> in_transit -> delivered; and
 * stopped, intercept_requested, carrier_exception, returned.
 */

export type ShipmentStatus = 'awaiting_production' | 'created' | 'picking' | 'packed' | 'intercept_requested' | 'shipped' | 'in_transit' | 'delivered' | 'carrier_exception' | 'returned' | 'stopped';

export interface Shipment {
  shipmentId: string;
  warehouseId: string;
  lines: ShipmentLineData[];
  status: ShipmentStatus;
  /** Units scanned at the packing table, by SKU. */
  scanned: Record<string, number>;
  carrier: string | null;
  waybillNo: string | null;
  trackingNumber: string | null;
  packedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  /** Last carrier state reported, and the furthest progress reached (never moves back). */
  carrierState: CarrierState | null;
  carrierStateAt: string | null;
  progress: number;
  lastProblem: string | null;
  /** Left the warehouse although the order's fulfilment was stopped (intercept rejected). */
  shippedAfterStop: boolean;
  /** Weight of the parcel's lines in grams (0 when unknown). */
  weightGrams: number;
  /** The merged parcel (合单) this order's lines travel in, and every order in it once packed. */
  mergeParcelId: string | null;
  mergedOrderIds: string[];
}

export type FulfillmentState =
  | { status: 'none' }
  | {
      status: 'open';
      orderId: string;
      priority: 'normal' | 'high';
      requiresQc: boolean;
      startedAt: string | null;
      shipments: Shipment[];
      stop: { reason: string; at: string } | null;
      freezeOverride: { actorId: string; reason: string; at: string } | null;
      returns: ReturnState[];
      /** Carrier the rules chose when the order became ready to ship (rule id and version recorded). */
      carrierChoice: CarrierChoice | null;
      /** What the carrier rules were given (a merged box is chosen again from its orders' inputs). */
      carrierInput: CarrierChoiceInput | null;
      /** 1 for the first set of parcels; +1 each time the order is packed again after a stop (a change re-opened it). */
      generation: number;
      /** A restart waiting for the packed parcels of the stopped generation to be pulled (intercepts confirmed). */
      pendingRestart: FulfillmentStoredDataMap['FulfillmentRestartPending'] | null;
      /** Work orders of made-to-order lines, as the MES last reported them. */
      workOrders: { workOrderId: string; status: WorkOrderStatus; percent: number; message: string | null; at: string }[];
      /** The shop the order was sold in (StartFulfillment's; null for orders started before fulfillment kept it). */
      shopId: string | null;
      /** The platform's order number (StartFulfillment's; null for orders started before fulfillment kept it). */
      channelOrderId: string | null;
      /** The order is on hold or flagged (挂起 / 异常) since `at`: nothing of it is picked, packed or shipped until resumed. */
      hold: { reason: string; at: string } | null;
    };

export type WorkOrderStatus = FulfillmentEventDataMap['WorkOrderProgressed']['status'];

/** A return (RMA) of a delivered or refused parcel. */
export interface ReturnState {
  rmaId: string;
  shipmentId: string;
  warehouseId: string;
  expected: { sku: string; quantity: number }[];
  status: 'requested' | 'received';
  received: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[];
}

export type OpenFulfillment = Extract<FulfillmentState, { status: 'open' }>;

/** Events stored in the order's fulfilment stream. The published ones keep their integration names and payloads. */
export interface FulfillmentStoredDataMap extends FulfillmentEventDataMap {
  FulfillmentStarted: {
    orderId: string;
    priority: 'normal' | 'high';
    requiresQc: boolean;
    startedAt: string;
    shipments: StartedShipment[];
    carrierChoice?: CarrierChoice;
    carrierInput?: CarrierChoiceInput;
    /** Set when the order is packed again after a stop: the earlier parcels stay stopped, these replace them. */
    generation?: number;
    /** The merge (合单) decision for the order, with the merge rules' version. */
    merge?: MergeDecision;
    /** The shop the order was sold in (for shop-limited staff); absent before fulfillment kept it. */
    shopId?: string;
    /** The platform's order number, for the pick list; absent before fulfillment kept it. */
    channelOrderId?: string;
  };
  /** StartFulfillment after a stop while packed parcels still await their intercept: the new parcels come once all are pulled. */
  FulfillmentRestartPending: {
    orderId: string;
    lines: FulfillmentCommandDataMap['StartFulfillment']['lines'];
    priority: 'normal' | 'high';
    requiresQc: boolean;
    carrierChoice?: CarrierChoice;
    /** Made-to-order SKUs of the restarted order: its new parcels wait for production again unless it is completed. */
    madeToOrderSkus?: string[];
    at: string;
  };
  ShipmentPickingStarted: { orderId: string; shipmentId: string; at: string };
  ShipmentItemScanned: { orderId: string; shipmentId: string; sku: string; quantity: number; at: string };
  FulfillmentStopRequested: { orderId: string; reason: string; at: string };
  /** HoldFulfillment: the order is on hold or flagged; its parcels leave the pick list. */
  FulfillmentHeld: { orderId: string; reason: string; at: string };
  /** ResumeFulfillment: its parcels return to the pick list where they were. */
  FulfillmentResumed: { orderId: string; reason: string; at: string };
}

/** A parcel as FulfillmentStarted creates it. */
export interface StartedShipment {
  shipmentId: string;
  warehouseId: string;
  lines: ShipmentLineData[];
  awaitingProduction?: boolean;
  weightGrams?: number;
  mergeParcelId?: string;
}

/** Merged into a parcel with other orders (`parcelId`), or not (`parcelId` null, with the reason). */
export type MergeDecision = { parcelId: string; ruleVersion: string } | { parcelId: null; ruleVersion: string; reason: string };

export type FulfillmentStoredType = keyof FulfillmentStoredDataMap;
export type FulfillmentEvent = { [K in FulfillmentStoredType]: { type: K; data: FulfillmentStoredDataMap[K] } }[FulfillmentStoredType];

/** Stored types that are also integration events on fulfillment.events.v1. */
export const PUBLISHED_TYPES = [
  'ShipmentPacked',
  'ShipmentShipped',
  'ShipmentDelivered',
  'FulfillmentStopped',
  'ShipmentInterceptRequested',
  'ShipmentTrackingUpdated',
  'ShipmentCarrierException',
  'FreezeOverridden',
  'ReturnRequested',
  'ReturnReceived',
  'WorkOrderProgressed',
] as const satisfies readonly (keyof FulfillmentEventDataMap)[];

export type FulfillmentCommand =
  | {
      type: 'StartFulfillment';
      data: FulfillmentCommandDataMap['StartFulfillment'];
      at: string;
      carrierChoice?: CarrierChoice;
      carrierInput?: CarrierChoiceInput;
      /** SKUs of the order made to order (a SKU flag): their parcels wait for the factory's `completed`. */
      madeToOrderSkus?: string[];
      /** The merge decision (the merge group's stream decided it in the same transaction); its parcel id goes on the order's one parcel. */
      merge?: MergeDecision;
    }
  | { type: 'RecordWorkOrderProgress'; orderId: string; workOrderId: string; status: WorkOrderStatus; percent?: number; message?: string; at: string }
  | { type: 'StopFulfillment'; data: FulfillmentCommandDataMap['StopFulfillment']; at: string }
  | { type: 'HoldFulfillment'; data: FulfillmentCommandDataMap['HoldFulfillment']; at: string }
  | { type: 'ResumeFulfillment'; data: FulfillmentCommandDataMap['ResumeFulfillment']; at: string }
  | { type: 'StartPicking'; shipmentId: string; at: string }
  | { type: 'ScanItem'; shipmentId: string; sku: string; quantity: number; at: string }
  | { type: 'PackShipment'; shipmentId: string; waybillNo: string; carrier: string; at: string; merged?: { parcelId: string; orderIds: string[] } }
  | { type: 'ShipShipment'; shipmentId: string; carrier?: string; trackingNumber?: string; at: string }
  | { type: 'ConfirmIntercept'; shipmentId: string; at: string }
  | { type: 'RejectIntercept'; shipmentId: string; at: string }
  | { type: 'RecordCarrierUpdate'; shipmentId: string; state: CarrierState; description: string; at: string }
  | { type: 'OverrideFreeze'; actor: { id: string; role: string; name?: string }; reason: string; at: string }
  | { type: 'RequestReturn'; shipmentId: string; rmaId: string; lines: { sku: string; quantity: number }[]; reason: string; at: string }
  | { type: 'ReceiveReturn'; rmaId: string; lines: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[]; at: string };

/** Stable refusal codes (HTTP 409 / gRPC FAILED_PRECONDITION unless noted). */
export const FulfillmentErrorCode = {
  NotStarted: 'FULFILLMENT_NOT_STARTED',
  ShipmentNotFound: 'SHIPMENT_NOT_FOUND',
  ShipmentStopped: 'SHIPMENT_STOPPED',
  IllegalTransition: 'SHIPMENT_ILLEGAL_TRANSITION',
  WrongSku: 'SCAN_WRONG_SKU',
  QuantityExceeded: 'SCAN_QUANTITY_EXCEEDED',
  PackIncomplete: 'PACK_INCOMPLETE',
  InterceptPending: 'INTERCEPT_PENDING',
  NotFrozen: 'ORDER_NOT_FROZEN',
  InvalidQuantity: 'SCAN_INVALID_QUANTITY',
  ReturnNotAllowed: 'RETURN_NOT_ALLOWED',
  ReturnLineInvalid: 'RETURN_LINE_INVALID',
  ReturnNotFound: 'RETURN_NOT_FOUND',
  ReturnQuantityExceeded: 'RETURN_QUANTITY_EXCEEDED',
  ProductionPending: 'PRODUCTION_PENDING',
  OnHold: 'FULFILLMENT_ON_HOLD',
} as const;

/** The stream of an order's fulfilment. */
export const fulfillmentStream = (orderId: string): string => `fulfillment-${orderId}`;

/** Parcel ids are derived from the order and the warehouse's rank, so a redelivered StartFulfillment names the same parcels. */
export const shipmentIdOf = (orderId: string, index: number, generation = 1): string => (generation > 1 ? `SHP-${orderId}-r${generation}-${index + 1}` : `SHP-${orderId}-${index + 1}`);

/** Statuses in which the parcel has left the warehouse. */
const LEFT: readonly ShipmentStatus[] = ['shipped', 'in_transit', 'delivered', 'carrier_exception', 'returned'];
/** Statuses in which the parcel is packed or beyond: the order's contents are frozen. */
const FROZEN: readonly ShipmentStatus[] = ['packed', 'intercept_requested', ...LEFT];

/** Progress rank of a carrier state; 0 for states that are not progress (problem). */
const PROGRESS: Record<CarrierState, number> = { picked_up: 1, in_transit: 2, out_for_delivery: 3, delivered: 4, returning: 5, returned: 6, problem: 0 };

export const hasLeft = (s: Shipment): boolean => LEFT.includes(s.status);

/** Units per SKU a parcel must hold. */
export function requiredBySku(lines: readonly ShipmentLineData[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l.sku] = (out[l.sku] ?? 0) + l.quantity;
  return out;
}

/** Splits an order's allocated lines into one parcel per warehouse (warehouses in id order, so ids are stable). */
export function splitByWarehouse(
  orderId: string,
  lines: FulfillmentCommandDataMap['StartFulfillment']['lines'],
  generation = 1,
  madeToOrderSkus: readonly string[] = [],
): StartedShipment[] {
  const byWarehouse = new Map<string, { lines: ShipmentLineData[]; grams: number; weighed: boolean }>();
  for (const l of lines) {
    const wh = l.warehouseId ?? 'UNALLOCATED';
    const parcel = byWarehouse.get(wh) ?? { lines: [], grams: 0, weighed: false };
    parcel.lines.push({ lineId: l.lineId, sku: l.sku, quantity: l.quantity });
    if (l.weightGrams !== undefined) parcel.grams += l.weightGrams;
    parcel.weighed ||= l.weightGrams !== undefined;
    byWarehouse.set(wh, parcel);
  }
  return [...byWarehouse.keys()].sort().map((warehouseId, i) => {
    const parcel = byWarehouse.get(warehouseId) ?? { lines: [], grams: 0, weighed: false };
    return {
      shipmentId: shipmentIdOf(orderId, i, generation),
      warehouseId,
      lines: parcel.lines,
      ...(parcel.lines.some((l) => madeToOrderSkus.includes(l.sku)) ? { awaitingProduction: true } : {}),
      ...(parcel.weighed ? { weightGrams: parcel.grams } : {}),
    };
  });
}

/**
 * Is the order frozen against changes (address, items)? From the first packed parcel on, until a
 * manager's override; a parcel packed after the override freezes it again. The change-request
 * flow asks this instead of re-implementing it.
 */
export function freezeOf(s: FulfillmentState): { frozen: boolean; reason: string | null; override: OpenFulfillment['freezeOverride'] } {
  if (s.status === 'none') return { frozen: false, reason: null, override: null };
  const packed = s.shipments.filter((x) => FROZEN.includes(x.status));
  if (packed.length === 0) return { frozen: false, reason: null, override: s.freezeOverride };
  if (s.freezeOverride) return { frozen: false, reason: null, override: s.freezeOverride };
  return { frozen: true, reason: `parcel ${packed.map((x) => x.shipmentId).join(', ')} packed`, override: null };
}

function refuse(code: string, message: string, details: Record<string, unknown> = {}, kind: DomainError['kind'] = 'conflict'): never {
  throw new DomainError(code, message, details, kind);
}

function openOrRefuse(s: FulfillmentState): OpenFulfillment {
  if (s.status === 'none') refuse(FulfillmentErrorCode.NotStarted, 'fulfilment of this order has not started', {}, 'not_found');
  return s;
}

function shipmentOf(s: OpenFulfillment, shipmentId: string): Shipment {
  const found = s.shipments.find((x) => x.shipmentId === shipmentId);
  if (!found) refuse(FulfillmentErrorCode.ShipmentNotFound, `no shipment ${shipmentId} in order ${s.orderId}`, { shipmentId }, 'not_found');
  return found;
}

function refuseIfStopped(sh: Shipment, s: OpenFulfillment, action: string): void {
  if (sh.status === 'awaiting_production') {
    refuse(FulfillmentErrorCode.ProductionPending, `cannot ${action}: shipment ${sh.shipmentId} holds made-to-order lines still in production`, {
      shipmentId: sh.shipmentId,
      workOrders: s.workOrders.map((w) => ({ workOrderId: w.workOrderId, status: w.status, percent: w.percent })),
    });
  }
  if (sh.status === 'stopped') refuse(FulfillmentErrorCode.ShipmentStopped, `cannot ${action}: shipment ${sh.shipmentId} was stopped (${s.stop?.reason ?? 'stopped'})`, { shipmentId: sh.shipmentId, reason: s.stop?.reason ?? null });
  if (sh.status === 'intercept_requested') refuse(FulfillmentErrorCode.InterceptPending, `cannot ${action}: shipment ${sh.shipmentId} must be intercepted (confirm or reject the intercept)`, { shipmentId: sh.shipmentId });
}

/**
 * A held order's parcels are not picked, scanned, packed or shipped (the order side holds or
 * flagged it after release). Also asked before a waybill is booked with the carrier.
 */
export function refuseIfHeld(s: { orderId: string; hold: { reason: string; at?: string } | null }, shipmentId: string, action: string): void {
  if (!s.hold) return;
  refuse(FulfillmentErrorCode.OnHold, `cannot ${action}: order ${s.orderId} is on hold (${s.hold.reason})`, { orderId: s.orderId, shipmentId, reason: s.hold.reason, ...(s.hold.at ? { heldAt: s.hold.at } : {}) });
}

function illegal(sh: Shipment, action: string): never {
  return refuse(FulfillmentErrorCode.IllegalTransition, `cannot ${action} shipment ${sh.shipmentId} in status ${sh.status}`, { shipmentId: sh.shipmentId, status: sh.status });
}

/** After `sh` leaves, has every parcel of the order that is not stopped left? */
function allLeftWith(s: OpenFulfillment, shipmentId: string): boolean {
  return s.shipments.every((x) => x.shipmentId === shipmentId || x.status === 'stopped' || hasLeft(x));
}

function allDeliveredWith(s: OpenFulfillment, shipmentId: string): boolean {
  return s.shipments.every((x) => x.shipmentId === shipmentId || x.status === 'stopped' || x.status === 'delivered');
}

function shippedEvent(s: OpenFulfillment, sh: Shipment, carrier: string, trackingNumber: string, at: string, afterStop: boolean): FulfillmentEvent {
  return {
    type: 'ShipmentShipped',
    data: {
      orderId: s.orderId,
      shipmentId: sh.shipmentId,
      carrier,
      trackingNumber,
      warehouseId: sh.warehouseId,
      lines: sh.lines,
      shippedAt: at,
      allShipped: allLeftWith(s, sh.shipmentId),
      ...(afterStop ? { afterStop: true } : {}),
      ...mergedOf(sh),
    },
  };
}

/** The merged parcel's fields of a parcel's integration events (none for a parcel of its own). */
function mergedOf(sh: Shipment): { mergeParcelId?: string; mergedOrderIds?: string[] } {
  return sh.mergeParcelId ? { mergeParcelId: sh.mergeParcelId, mergedOrderIds: sh.mergedOrderIds } : {};
}

function restarted(s: OpenFulfillment, base: Omit<FulfillmentStoredDataMap['FulfillmentRestartPending'], 'at'>, at: string): FulfillmentEvent {
  const generation = s.generation + 1;
  return {
    type: 'FulfillmentStarted',
    data: {
      orderId: base.orderId,
      priority: base.priority,
      requiresQc: base.requiresQc,
      startedAt: at,
      shipments: splitByWarehouse(base.orderId, base.lines, generation, base.madeToOrderSkus ?? []),
      ...(base.carrierChoice ? { carrierChoice: base.carrierChoice } : {}),
      generation,
    },
  };
}

export function decide(c: FulfillmentCommand, state: FulfillmentState): FulfillmentEvent[] {
  switch (c.type) {
    case 'StartFulfillment': {
      const orderId = c.data.orderId;
      if (c.data.lines.length === 0) refuse('START_WITHOUT_LINES', 'StartFulfillment names no line', { field: 'lines' }, 'invalid');
      if (state.status === 'open' && state.stop) {
        // Stopped before any parcel existed (cancelled): nothing to pack.
        if (state.startedAt === null) return [];
        // A start after a stop packs the order again (an approved change re-opened it). Not once a parcel left.
        if (state.shipments.some(hasLeft)) return [];
        const base = {
          orderId,
          lines: c.data.lines,
          priority: c.data.priority,
          requiresQc: c.data.requiresQc,
          ...(c.carrierChoice ? { carrierChoice: c.carrierChoice } : {}),
          ...(c.madeToOrderSkus?.length ? { madeToOrderSkus: c.madeToOrderSkus } : {}),
        };
        if (state.shipments.some((x) => x.status === 'intercept_requested')) return [{ type: 'FulfillmentRestartPending', data: { ...base, at: c.at } }];
        return [restarted(state, base, c.at)];
      }
      // Redelivered: the parcels exist already.
      if (state.status === 'open' && state.startedAt !== null) return [];
      const shipments = splitByWarehouse(orderId, c.data.lines, 1, c.madeToOrderSkus ?? []);
      const merge = c.merge;
      // Only an order travelling in one parcel can share it (the merge group is per warehouse).
      if (merge?.parcelId && shipments.length !== 1) refuse('MERGE_NEEDS_ONE_PARCEL', `order ${orderId} spans ${shipments.length} warehouses: it cannot join merged parcel ${merge.parcelId}`, { orderId }, 'invalid');
      return [
        {
          type: 'FulfillmentStarted',
          data: {
            orderId,
            priority: c.data.priority,
            requiresQc: c.data.requiresQc,
            startedAt: c.at,
            shipments: merge?.parcelId ? shipments.map((x) => ({ ...x, mergeParcelId: merge.parcelId as string })) : shipments,
            ...(c.carrierChoice ? { carrierChoice: c.carrierChoice } : {}),
            ...(c.carrierInput ? { carrierInput: c.carrierInput } : {}),
            ...(merge ? { merge } : {}),
            ...(c.data.shopId ? { shopId: c.data.shopId } : {}),
            ...(c.data.channelOrderId ? { channelOrderId: c.data.channelOrderId } : {}),
          },
        },
      ];
    }
    case 'StopFulfillment': {
      if (state.status === 'open' && state.stop) return [];
      const orderId = c.data.orderId;
      const events: FulfillmentEvent[] = [{ type: 'FulfillmentStopRequested', data: { orderId, reason: c.data.reason, at: c.at } }];
      if (state.status === 'none') return events;
      for (const sh of state.shipments) {
        if (sh.status === 'awaiting_production' || sh.status === 'created' || sh.status === 'picking') {
          events.push({ type: 'FulfillmentStopped', data: { orderId, reason: c.data.reason, wasPacked: false, shipmentId: sh.shipmentId, warehouseId: sh.warehouseId, lines: sh.lines } });
        } else if (sh.status === 'packed') {
          events.push({ type: 'ShipmentInterceptRequested', data: { orderId, shipmentId: sh.shipmentId, reason: c.data.reason, warehouseId: sh.warehouseId, requestedAt: c.at } });
        }
        // Already with the carrier: too late to stop here; the order side sees the shipment.
      }
      return events;
    }
    case 'HoldFulfillment': {
      if (state.status === 'open' && state.hold) return [];
      return [{ type: 'FulfillmentHeld', data: { orderId: c.data.orderId, reason: c.data.reason, at: c.at } }];
    }
    case 'ResumeFulfillment': {
      if (state.status !== 'open' || !state.hold) return [];
      return [{ type: 'FulfillmentResumed', data: { orderId: c.data.orderId, reason: c.data.reason, at: c.at } }];
    }
    case 'StartPicking': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      refuseIfStopped(sh, s, 'pick');
      if (sh.status === 'picking') return [];
      refuseIfHeld(s, sh.shipmentId, 'pick');
      if (sh.status !== 'created') illegal(sh, 'start picking');
      return [{ type: 'ShipmentPickingStarted', data: { orderId: s.orderId, shipmentId: sh.shipmentId, at: c.at } }];
    }
    case 'ScanItem': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      refuseIfStopped(sh, s, 'scan into');
      if (sh.status !== 'picking' && sh.status !== 'created') illegal(sh, 'scan into');
      refuseIfHeld(s, sh.shipmentId, 'scan into');
      if (!Number.isInteger(c.quantity) || c.quantity < 1) refuse(FulfillmentErrorCode.InvalidQuantity, 'quantity must be a positive integer', { field: 'quantity', quantity: c.quantity }, 'invalid');
      const required = requiredBySku(sh.lines);
      const need = required[c.sku];
      if (need === undefined) {
        refuse(FulfillmentErrorCode.WrongSku, `wrong item: ${c.sku} is not in shipment ${sh.shipmentId} (expected ${Object.keys(required).join(', ')})`, {
          shipmentId: sh.shipmentId,
          sku: c.sku,
          expected: Object.keys(required),
        });
      }
      const already = sh.scanned[c.sku] ?? 0;
      if (already + c.quantity > need) {
        refuse(FulfillmentErrorCode.QuantityExceeded, `too many ${c.sku}: shipment ${sh.shipmentId} needs ${need}, ${already} already scanned, ${c.quantity} more scanned`, {
          shipmentId: sh.shipmentId,
          sku: c.sku,
          required: need,
          scanned: already,
          quantity: c.quantity,
        });
      }
      const events: FulfillmentEvent[] = [];
      if (sh.status === 'created') events.push({ type: 'ShipmentPickingStarted', data: { orderId: s.orderId, shipmentId: sh.shipmentId, at: c.at } });
      events.push({ type: 'ShipmentItemScanned', data: { orderId: s.orderId, shipmentId: sh.shipmentId, sku: c.sku, quantity: c.quantity, at: c.at } });
      return events;
    }
    case 'PackShipment': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      refuseIfStopped(sh, s, 'pack');
      if (sh.status === 'packed' && sh.waybillNo === c.waybillNo) return [];
      if (sh.status !== 'picking') illegal(sh, 'pack');
      refuseIfHeld(s, sh.shipmentId, 'pack');
      const required = requiredBySku(sh.lines);
      const missing = Object.entries(required)
        .filter(([sku, n]) => (sh.scanned[sku] ?? 0) < n)
        .map(([sku, n]) => ({ sku, required: n, scanned: sh.scanned[sku] ?? 0 }));
      if (missing.length > 0) refuse(FulfillmentErrorCode.PackIncomplete, `shipment ${sh.shipmentId} is not complete: ${missing.map((m) => `${m.sku} ${m.scanned}/${m.required}`).join(', ')}`, { shipmentId: sh.shipmentId, missing });
      const merged = c.merged ?? (sh.mergeParcelId ? { parcelId: sh.mergeParcelId, orderIds: [s.orderId] } : undefined);
      return [
        {
          type: 'ShipmentPacked',
          data: {
            orderId: s.orderId,
            shipmentId: sh.shipmentId,
            waybillNo: c.waybillNo,
            warehouseId: sh.warehouseId,
            lines: sh.lines,
            packedAt: c.at,
            carrier: c.carrier,
            ...(sh.weightGrams > 0 ? { weightGrams: sh.weightGrams } : {}),
            ...(merged ? { mergeParcelId: merged.parcelId, mergedOrderIds: merged.orderIds } : {}),
          },
        },
      ];
    }
    case 'ShipShipment': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      refuseIfStopped(sh, s, 'ship');
      if (hasLeft(sh)) return [];
      if (sh.status !== 'packed') illegal(sh, 'ship');
      refuseIfHeld(s, sh.shipmentId, 'ship');
      const carrier = c.carrier ?? sh.carrier ?? 'UNKNOWN';
      return [shippedEvent(s, sh, carrier, c.trackingNumber ?? sh.waybillNo ?? sh.shipmentId, c.at, false)];
    }
    case 'ConfirmIntercept': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      if (sh.status === 'stopped') return [];
      if (sh.status !== 'intercept_requested') illegal(sh, 'confirm the intercept of');
      const stopped: FulfillmentEvent = {
        type: 'FulfillmentStopped',
        data: { orderId: s.orderId, reason: s.stop?.reason ?? 'intercepted', wasPacked: true, shipmentId: sh.shipmentId, warehouseId: sh.warehouseId, lines: sh.lines },
      };
      // The last parcel pulled: a restart that waited for it creates the new parcels now.
      const othersPending = s.shipments.some((x) => x.shipmentId !== sh.shipmentId && x.status === 'intercept_requested');
      if (s.pendingRestart && !othersPending) {
        const { at: _at, ...base } = s.pendingRestart;
        return [stopped, restarted(s, base, c.at)];
      }
      return [stopped];
    }
    case 'RejectIntercept': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      if (hasLeft(sh) && sh.shippedAfterStop) return [];
      if (sh.status !== 'intercept_requested') illegal(sh, 'reject the intercept of');
      return [shippedEvent(s, sh, sh.carrier ?? 'UNKNOWN', sh.waybillNo ?? sh.shipmentId, c.at, true)];
    }
    case 'RecordCarrierUpdate': {
      const s = openOrRefuse(state);
      const sh = shipmentOf(s, c.shipmentId);
      if (!hasLeft(sh)) illegal(sh, `record carrier state ${c.state} on`);
      // Delivered and returned are final; an older or repeated state is a duplicate or out of order.
      if (sh.status === 'delivered' || sh.status === 'returned') return [];
      const base = { orderId: s.orderId, shipmentId: sh.shipmentId, carrier: sh.carrier ?? 'UNKNOWN', trackingNumber: sh.trackingNumber ?? sh.shipmentId };
      if (c.state === 'problem') {
        if (sh.lastProblem === c.description) return [];
        return [{ type: 'ShipmentCarrierException', data: { ...base, description: c.description, at: c.at } }];
      }
      if (PROGRESS[c.state] <= sh.progress) return [];
      const events: FulfillmentEvent[] = [{ type: 'ShipmentTrackingUpdated', data: { ...base, state: c.state, description: c.description, at: c.at } }];
      if (c.state === 'delivered') events.push({ type: 'ShipmentDelivered', data: { orderId: s.orderId, shipmentId: sh.shipmentId, deliveredAt: c.at, allDelivered: allDeliveredWith(s, sh.shipmentId), ...mergedOf(sh) } });
      return events;
    }
    case 'OverrideFreeze': {
      const s = openOrRefuse(state);
      if (!freezeOf(s).frozen) refuse(FulfillmentErrorCode.NotFrozen, 'the order is not frozen: nothing to override', { orderId: s.orderId });
      return [{ type: 'FreezeOverridden', data: { orderId: s.orderId, actor: c.actor, reason: c.reason, at: c.at } }];
    }
    case 'RecordWorkOrderProgress': {
      // The factory may report before the order reaches fulfilment: the progress waits for it.
      const s = opened(state, c.orderId);
      const last = s.workOrders.find((w) => w.workOrderId === c.workOrderId);
      const rank = { created: 0, in_production: 1, problem: 1, completed: 2 } as const;
      if (last) {
        // A repeated or older report changes nothing; completed is final.
        if (last.status === 'completed') return [];
        if (rank[c.status] < rank[last.status]) return [];
        if (c.status === last.status && c.status !== 'problem' && (c.percent ?? 0) <= last.percent) return [];
        if (c.status === 'problem' && last.status === 'problem' && (c.message ?? null) === last.message) return [];
      }
      return [
        {
          type: 'WorkOrderProgressed',
          data: {
            orderId: s.orderId,
            workOrderId: c.workOrderId,
            status: c.status,
            ...(c.percent !== undefined ? { percent: c.percent } : {}),
            ...(c.message ? { message: c.message } : {}),
            at: c.at,
          },
        },
      ];
    }
    case 'RequestReturn': {
      const s = openOrRefuse(state);
      if (s.returns.some((r) => r.rmaId === c.rmaId)) return [];
      const sh = shipmentOf(s, c.shipmentId);
      if (sh.status !== 'delivered' && sh.status !== 'returned') {
        refuse(FulfillmentErrorCode.ReturnNotAllowed, `a return needs a delivered or refused parcel; ${sh.shipmentId} is ${sh.status}`, { shipmentId: sh.shipmentId, status: sh.status });
      }
      const shipped = requiredBySku(sh.lines);
      const already = requiredBySku(s.returns.filter((r) => r.shipmentId === sh.shipmentId).flatMap((r) => r.expected.map((l) => ({ lineId: '', ...l }))));
      const asked = requiredBySku(c.lines.map((l) => ({ lineId: '', ...l })));
      if (c.lines.length === 0) refuse(FulfillmentErrorCode.ReturnLineInvalid, 'a return names at least one line', { field: 'lines' }, 'invalid');
      for (const [sku, n] of Object.entries(asked)) {
        const room = (shipped[sku] ?? 0) - (already[sku] ?? 0);
        if (!Number.isInteger(n) || n < 1 || n > room) {
          refuse(FulfillmentErrorCode.ReturnLineInvalid, `cannot return ${n} of ${sku}: the parcel shipped ${shipped[sku] ?? 0}, ${already[sku] ?? 0} already on a return`, { sku, quantity: n, returnable: Math.max(room, 0) });
        }
      }
      return [{ type: 'ReturnRequested', data: { orderId: s.orderId, shipmentId: sh.shipmentId, rmaId: c.rmaId, warehouseId: sh.warehouseId, lines: c.lines, reason: c.reason, at: c.at } }];
    }
    case 'ReceiveReturn': {
      const s = openOrRefuse(state);
      const rma = s.returns.find((r) => r.rmaId === c.rmaId);
      if (!rma) refuse(FulfillmentErrorCode.ReturnNotFound, `no return ${c.rmaId} in order ${s.orderId}`, { rmaId: c.rmaId }, 'not_found');
      if (rma.status === 'received') return [];
      const expected = requiredBySku(rma.expected.map((l) => ({ lineId: '', ...l })));
      const got = requiredBySku(c.lines.map((l) => ({ lineId: '', sku: l.sku, quantity: l.quantity })));
      for (const [sku, n] of Object.entries(got)) {
        if (n > (expected[sku] ?? 0)) refuse(FulfillmentErrorCode.ReturnQuantityExceeded, `return ${c.rmaId} expects ${expected[sku] ?? 0} of ${sku}, ${n} received`, { rmaId: c.rmaId, sku, expected: expected[sku] ?? 0, received: n });
      }
      return [{ type: 'ReturnReceived', data: { orderId: s.orderId, shipmentId: rma.shipmentId, rmaId: c.rmaId, warehouseId: rma.warehouseId, lines: c.lines, at: c.at } }];
    }
    default:
      return assertNever(c, 'fulfillment command');
  }
}

/** Every work order reported is completed (at least one reported). */
function productionDone(s: OpenFulfillment): boolean {
  return s.workOrders.length > 0 && s.workOrders.every((w) => w.status === 'completed');
}

function withShipment(s: OpenFulfillment, shipmentId: string, change: (sh: Shipment) => Shipment): OpenFulfillment {
  return { ...s, shipments: s.shipments.map((x) => (x.shipmentId === shipmentId ? change(x) : x)) };
}

function newShipment(x: StartedShipment, productionDone = false): Shipment {
  const { awaitingProduction, weightGrams, mergeParcelId, ...parcel } = x;
  return {
    ...parcel,
    weightGrams: weightGrams ?? 0,
    mergeParcelId: mergeParcelId ?? null,
    mergedOrderIds: [],
    status: awaitingProduction && !productionDone ? 'awaiting_production' : 'created',
    scanned: {},
    carrier: null,
    waybillNo: null,
    trackingNumber: null,
    packedAt: null,
    shippedAt: null,
    deliveredAt: null,
    carrierState: null,
    carrierStateAt: null,
    progress: 0,
    lastProblem: null,
    shippedAfterStop: false,
  };
}

function opened(state: FulfillmentState, orderId: string): OpenFulfillment {
  return state.status === 'open' ? state : { status: 'open', orderId, priority: 'normal', requiresQc: false, startedAt: null, shipments: [], stop: null, freezeOverride: null, returns: [], carrierChoice: null, carrierInput: null, generation: 1, pendingRestart: null, workOrders: [], shopId: null, channelOrderId: null, hold: null };
}

export function evolve(state: FulfillmentState, e: FulfillmentEvent): FulfillmentState {
  const s = opened(state, e.data.orderId);
  switch (e.type) {
    case 'FulfillmentStarted':
      return {
        ...s,
        priority: e.data.priority,
        requiresQc: e.data.requiresQc,
        startedAt: e.data.startedAt,
        // A restart keeps the stopped parcels (history) and lifts the stop for the new ones.
        shipments: [...(e.data.generation ? s.shipments : []), ...e.data.shipments.map((x) => newShipment(x, productionDone(s)))],
        carrierChoice: e.data.carrierChoice ?? s.carrierChoice,
        carrierInput: e.data.carrierInput ?? s.carrierInput,
        generation: e.data.generation ?? 1,
        stop: e.data.generation ? null : s.stop,
        pendingRestart: null,
        shopId: e.data.shopId ?? s.shopId,
        channelOrderId: e.data.channelOrderId ?? s.channelOrderId,
      };
    case 'FulfillmentRestartPending':
      return { ...s, pendingRestart: e.data };
    case 'WorkOrderProgressed': {
      const w = { workOrderId: e.data.workOrderId, status: e.data.status, percent: e.data.status === 'completed' ? 100 : (e.data.percent ?? 0), message: e.data.message ?? null, at: e.data.at };
      const next = { ...s, workOrders: [...s.workOrders.filter((x) => x.workOrderId !== w.workOrderId), w] };
      // Production done: parcels waiting for it join the pick list.
      return productionDone(next) ? { ...next, shipments: next.shipments.map((x) => (x.status === 'awaiting_production' ? { ...x, status: 'created' } : x)) } : next;
    }
    case 'FulfillmentStopRequested':
      return { ...s, stop: { reason: e.data.reason, at: e.data.at } };
    case 'FulfillmentHeld':
      return { ...s, hold: { reason: e.data.reason, at: e.data.at } };
    case 'FulfillmentResumed':
      return { ...s, hold: null };
    case 'ShipmentPickingStarted':
      return withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'picking' }));
    case 'ShipmentItemScanned':
      return withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, scanned: { ...sh.scanned, [e.data.sku]: (sh.scanned[e.data.sku] ?? 0) + e.data.quantity } }));
    case 'ShipmentPacked':
      return {
        ...withShipment(s, e.data.shipmentId, (sh) => ({
          ...sh,
          status: 'packed',
          waybillNo: e.data.waybillNo,
          carrier: e.data.carrier ?? sh.carrier,
          packedAt: e.data.packedAt ?? null,
          mergedOrderIds: e.data.mergedOrderIds ?? sh.mergedOrderIds,
        })),
        // A parcel packed after an override freezes the order again.
        freezeOverride: null,
      };
    case 'ShipmentShipped':
      return withShipment(s, e.data.shipmentId, (sh) => ({
        ...sh,
        status: 'shipped',
        carrier: e.data.carrier,
        trackingNumber: e.data.trackingNumber,
        shippedAt: e.data.shippedAt ?? null,
        shippedAfterStop: e.data.afterStop === true,
      }));
    case 'ShipmentDelivered':
      return withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'delivered', deliveredAt: e.data.deliveredAt }));
    case 'FulfillmentStopped':
      return e.data.shipmentId ? withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'stopped' })) : s;
    case 'ShipmentInterceptRequested':
      return withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'intercept_requested' }));
    case 'ShipmentTrackingUpdated':
      return withShipment(s, e.data.shipmentId, (sh) => ({
        ...sh,
        status: e.data.state === 'delivered' ? 'delivered' : e.data.state === 'returned' ? 'returned' : e.data.state === 'returning' ? 'carrier_exception' : 'in_transit',
        carrierState: e.data.state,
        carrierStateAt: e.data.at,
        progress: Math.max(sh.progress, PROGRESS[e.data.state]),
      }));
    case 'ShipmentCarrierException':
      return withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'carrier_exception', carrierState: 'problem', carrierStateAt: e.data.at, lastProblem: e.data.description }));
    case 'FreezeOverridden':
      return { ...s, freezeOverride: { actorId: e.data.actor.id, reason: e.data.reason, at: e.data.at } };
    case 'ReturnRequested':
      return {
        ...s,
        returns: [...s.returns, { rmaId: e.data.rmaId, shipmentId: e.data.shipmentId, warehouseId: e.data.warehouseId, expected: e.data.lines, status: 'requested', received: [] }],
      };
    case 'ReturnReceived':
      return {
        ...withShipment(s, e.data.shipmentId, (sh) => ({ ...sh, status: 'returned' })),
        returns: s.returns.map((r) => (r.rmaId === e.data.rmaId ? { ...r, status: 'received', received: e.data.lines } : r)),
      };
    default:
      return assertNever(e, 'fulfillment event');
  }
}

export const orderFulfillmentDecider: Decider<FulfillmentState, FulfillmentCommand, FulfillmentEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
};
