/**
 * Fulfillment's public surface (defined before the service exists so the order flow is complete).
 * Commands on `fulfillment.commands.v1`, events on `fulfillment.events.v1`, keyed by orderId.
 */
export interface FulfillmentCommandDataMap {
  /** The order is ready to ship: create the pick/pack task. */
  StartFulfillment: {
    orderId: string;
    lines: { lineId: string; sku: string; quantity: number; warehouseId?: string }[];
    priority: 'normal' | 'high';
    requiresQc: boolean;
  };
  /** Cancel or refund before shipment: stop packing; if already packed, unpack and return to stock. */
  StopFulfillment: { orderId: string; reason: string };
}

export interface FulfillmentEventDataMap {
  ShipmentPacked: { orderId: string; shipmentId: string; waybillNo: string; warehouseId?: string };
  ShipmentShipped: { orderId: string; shipmentId: string; carrier: string; trackingNumber: string };
  ShipmentDelivered: { orderId: string; shipmentId: string; deliveredAt: string };
  /** Fulfilment stopped on request; `wasPacked` tells whether units must be put back. */
  FulfillmentStopped: { orderId: string; reason: string; wasPacked: boolean };
}

export type FulfillmentCommandType = keyof FulfillmentCommandDataMap;
export type FulfillmentEventType = keyof FulfillmentEventDataMap;
