/**
 * Tracking's published alerts: an order's SLA clock or stall crossed a threshold, with no new
 * event behind it (the SLA clock job noticed). On `tracking.events.v1`, keyed by orderId.
 * Each transition is published once per (order, SLA segment run, colour) and (order, stage visit)
 * across clock ticks and tracking replicas.
 */

/** Which budget and when its clock started, as tracking computed it. */
export interface OrderSlaRef {
  orderId: string;
  channelOrderId: string;
  shopId: string;
  /** Stage the order is in (`paid`, `awaiting_approval`, `ready_to_ship`, ...). */
  stage: string;
  /** SLA segment id (`paid_to_ready`, `approval`, `ready_to_shipped`). */
  segment: string;
  slaStartedAt: string;
  slaYellowAt: string;
  slaDueAt: string;
  /** When tracking noticed (the clock job's time). */
  detectedAt: string;
}

export interface TrackingEventDataMap {
  /** The order passed the yellow share of its budget: it turns red at `slaDueAt` unless it moves. */
  OrderSlaTurnedYellow: OrderSlaRef;
  /** The order is past its SLA due time. */
  OrderSlaTurnedRed: OrderSlaRef;
  /** The order has stayed in one stage longer than the stuck threshold (24 h by default). */
  OrderStuck: { orderId: string; channelOrderId: string; shopId: string; stage: string; stageEnteredAt: string; stuckAt: string; detectedAt: string };
}

export type TrackingEventType = keyof TrackingEventDataMap;
export const TRACKING_EVENT_TYPES = ['OrderSlaTurnedYellow', 'OrderSlaTurnedRed', 'OrderStuck'] as const satisfies readonly TrackingEventType[];
