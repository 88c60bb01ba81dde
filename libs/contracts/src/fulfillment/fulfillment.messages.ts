/**
 * Fulfillment's public surface. Commands on `fulfillment.commands.v1`, events on
 * `fulfillment.events.v1`, keyed by orderId. An order has one shipment (parcel) per warehouse
 * allocation; fields marked optional were added after v1 and keep the version (additive).
 */
export interface FulfillmentCommandDataMap {
  /** The order is ready to ship: create the pick/pack task. */
  StartFulfillment: {
    orderId: string;
    /** `weightGrams`: the line's weight (all its units) when the order or the SKU master knows it; else fulfillment's per-SKU default. */
    lines: { lineId: string; sku: string; quantity: number; warehouseId?: string; weightGrams?: number }[];
    priority: 'normal' | 'high';
    requiresQc: boolean;
    /** Where the parcels go (province, city: the carrier rules read them; the full address stays with order-intake). */
    destination?: { province: string; city?: string };
    /** Sales channel and order amount (fen), for the carrier rules. */
    channel?: string;
    grandTotal?: number;
    /** Carrier the platform designated for the order, if any. */
    designatedCarrier?: string;
    /** Shop the order was sold in (merge 合单 groups orders per shop). */
    shopId?: string;
    /** The platform's order number (淘宝/京东 订单号): what the warehouse reads on the pick list. */
    channelOrderId?: string;
    /**
     * Merge keys: one-way hashes (hex) of the buyer (channel customer id or nickname) and of the
     * normalised shipping address (case and whitespace ignored). Orders of one shop with equal keys
     * may travel in one parcel; the address itself stays with order-intake.
     */
    buyerKey?: string;
    addressKey?: string;
  };
  /** Cancel or refund before shipment: stop packing; if already packed, unpack and return to stock. */
  StopFulfillment: { orderId: string; reason: string };
  /**
   * The order is on hold or flagged (挂起 / 异常) after it was released: no parcel of it is picked,
   * scanned, packed or shipped until ResumeFulfillment. A repeat while held changes nothing.
   */
  HoldFulfillment: { orderId: string; reason: string };
  /** Every hold and flag of the order is cleared: its parcels return to the pick list. */
  ResumeFulfillment: { orderId: string; reason: string };
}

/** A line (or part of one) in one parcel. */
export interface ShipmentLineData {
  lineId: string;
  sku: string;
  quantity: number;
}

/**
 * Carrier states of a parcel, in the order they can happen (a callback never moves a parcel back):
 * Kuaidi100 1 picked up, 0 in transit, 5 out for delivery, 3 delivered; 2 problem, 4 refused or
 * returned, 6 returning, 7 transferred.
 */
export const CARRIER_STATES = ['picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'problem', 'returning', 'returned'] as const;
export type CarrierState = (typeof CARRIER_STATES)[number];

export interface FulfillmentEventDataMap {
  ShipmentPacked: {
    orderId: string;
    shipmentId: string;
    waybillNo: string;
    warehouseId?: string;
    /** Lines in the parcel. */
    lines?: ShipmentLineData[];
    /** ISO time the parcel was packed. */
    packedAt?: string;
    /** Carrier the waybill was printed for. */
    carrier?: string;
    /** The parcel is a merged one (合单): its id, and every order travelling in it (this one included). */
    mergeParcelId?: string;
    mergedOrderIds?: string[];
    /** Weight of this order's lines in the parcel, grams. */
    weightGrams?: number;
  };
  ShipmentShipped: {
    orderId: string;
    shipmentId: string;
    carrier: string;
    trackingNumber: string;
    warehouseId?: string;
    /** Lines and quantities that left the warehouse (stock movement). */
    lines?: ShipmentLineData[];
    /** ISO time of the handover to the carrier (the end of the ready -> shipped SLA segment). */
    shippedAt?: string;
    /** False while other parcels of the order are still in the warehouse; the order is shipped when all are. */
    allShipped?: boolean;
    /** The parcel left although fulfilment was stopped (intercept rejected: it was already gone). */
    afterStop?: boolean;
    /** The parcel is a merged one (合单): its id, and every order travelling in it (this one included). */
    mergeParcelId?: string;
    mergedOrderIds?: string[];
  };
  ShipmentDelivered: {
    orderId: string;
    shipmentId: string;
    deliveredAt: string;
    /** False while other parcels of the order are not delivered yet; the order is delivered when all are. */
    allDelivered?: boolean;
    /** The parcel is a merged one (合单): its id, and every order travelling in it (this one included). */
    mergeParcelId?: string;
    mergedOrderIds?: string[];
  };
  /** Fulfilment stopped on request; `wasPacked` tells whether units must be put back. */
  FulfillmentStopped: {
    orderId: string;
    reason: string;
    wasPacked: boolean;
    /** The parcel stopped (one event per parcel). */
    shipmentId?: string;
    warehouseId?: string;
    lines?: ShipmentLineData[];
  };
  /** A stop arrived after packing: the warehouse must pull the parcel (confirm) or report it gone (reject). */
  ShipmentInterceptRequested: { orderId: string; shipmentId: string; reason: string; warehouseId: string; requestedAt: string };
  /** The carrier reported a new state of the parcel (never a step back). */
  ShipmentTrackingUpdated: {
    orderId: string;
    shipmentId: string;
    carrier: string;
    trackingNumber: string;
    state: CarrierState;
    /** The carrier's own words, as reported. */
    description: string;
    at: string;
  };
  /** The carrier reports a problem with the parcel (Kuaidi100 state 2, refusal...): a person looks. */
  ShipmentCarrierException: { orderId: string; shipmentId: string; carrier: string; trackingNumber: string; description: string; at: string };
  /**
   * A manager lifted the freeze on changes of a packed order (特批): the change-request flow may
   * change it again. `actor` is who decided, `reason` why.
   */
  FreezeOverridden: { orderId: string; actor: { id: string; role: string; name?: string }; reason: string; at: string };
  /** A return (RMA) was opened for a delivered or refused parcel: the lines expected back. */
  ReturnRequested: { orderId: string; shipmentId: string; rmaId: string; warehouseId: string; lines: { sku: string; quantity: number }[]; reason: string; at: string };
  /**
   * The returned parcel arrived: what came back and in which condition. Resellable units are
   * restocked (an inventory receipt referencing the RMA), damaged ones written off.
   */
  /**
   * The seller's factory (MES) reported progress of the work order of a made-to-order line
   * (signed callback). Parcels with made-to-order lines wait for `completed` before picking.
   */
  WorkOrderProgressed: {
    orderId: string;
    workOrderId: string;
    status: 'created' | 'in_production' | 'completed' | 'problem';
    /** 0-100 while in production. */
    percent?: number;
    /** The factory's own words (a problem's description). */
    message?: string;
    at: string;
  };
  ReturnReceived: {
    orderId: string;
    shipmentId: string;
    rmaId: string;
    warehouseId: string;
    lines: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[];
    at: string;
  };
}

export type FulfillmentCommandType = keyof FulfillmentCommandDataMap;
export type FulfillmentEventType = keyof FulfillmentEventDataMap;
