import type { Actor } from '../envelope';
import type { OrderFlag, OrderStage } from '../orders/order.types';

/**
 * Tracking's read models as its REST API returns them (the gRPC surface is proto/tracking/v1).
 * Times are ISO-8601 strings, money integer minor units; texts come in zh-CN and en.
 */

/** Traffic light of an order against its stage budget; `none` when the stage has no budget. */
export type SlaColour = 'green' | 'yellow' | 'red' | 'none';

export interface BilingualText {
  zh: string;
  en: string;
}

/** One order on the board. */
export interface TrackingOrderView {
  orderId: string;
  channel: string;
  channelOrderId: string;
  shopId: string;
  /** Masked (张*). */
  customerMasked: string | null;
  customerPhoneMasked: string | null;
  province: string | null;
  city: string | null;
  lineCount: number;
  itemCount: number;
  grandTotal: number;
  currency: string;
  paidAmount: number;
  refundedAmount: number;
  stage: OrderStage;
  stageLabel: BilingualText;
  /** When the current stage was entered. */
  stageEnteredAt: string;
  flags: OrderFlag[];
  holdReason: string | null;
  exceptionCode: string | null;
  exceptionReason: string | null;
  /** A person had to decide something about this order. */
  manualTouch: boolean;
  /** `manual` when staff keyed the order in. */
  ingestMode: 'auto' | 'manual';
  refundRequested: boolean;
  approvalChain: string | null;
  lastRule: { ruleId: string; ruleSetVersion: string | null; decision: string | null } | null;
  priority: 'normal' | 'high';
  carrier: string | null;
  trackingNumber: string | null;
  placedAt: string;
  paidAt: string | null;
  readyToShipAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  closedAt: string | null;
  sla: {
    /** SLA segment whose clock runs (`paid_to_ready`, `approval`, `ready_to_shipped`), null when none. */
    segment: string | null;
    startedAt: string | null;
    yellowAt: string | null;
    dueAt: string | null;
    colour: SlaColour;
    /** When the colour was last computed (event or clock job). */
    asOf: string | null;
  };
  /** In one stage past the stuck threshold (24 h by default). */
  stuck: boolean;
  stuckAt: string | null;
  /** Ship-by estimate from the SLA budgets. */
  etaShipBy: string | null;
  lastEventAt: string;
  eventCount: number;
}

/** One line of an order's history. */
export interface TrackingTimelineEntryView {
  eventId: string;
  type: string;
  /** Context that published it: orders, inventory, approval, fulfillment. */
  context: string;
  occurredAt: string;
  streamId: string;
  streamPosition: number;
  actor: Actor | null;
  who: BilingualText;
  what: BilingualText;
  why: BilingualText | null;
  /** The rule behind the step, when a rule decided it. */
  rule: { ruleId: string; ruleSetVersion: string | null; ruleSetHash: string | null } | null;
  stageAfter: OrderStage | null;
  correlationId: string;
  causationId: string | null;
}

export interface TrackingStageDurationView {
  visit: number;
  stage: OrderStage;
  enteredAt: string;
  /** Null while the order is still in the stage. */
  leftAt: string | null;
  durationMs: number | null;
}

/** One step of an approval chain as tracking shows it on the order. */
export interface TrackingApprovalStepView {
  step: string;
  role: string | null;
  approvers: string[];
  quorum: 'any' | 'all';
  state: 'waiting' | 'active' | 'approved' | 'rejected' | 'returned' | 'skipped' | 'expired';
  /** Who decided (approved, returned, rejected), and when. */
  actor: { id: string; role: string | null } | null;
  at: string | null;
  comment: string | null;
  startedAt: string | null;
  /** The step's SLA deadline (8 h by default). */
  dueAt: string | null;
  remindedAt: string | null;
  escalatedAt: string | null;
  escalatedTo: string | null;
  /** `user:<id>` principals the step was delegated to. */
  delegatedTo: string[];
}

/** An approval chain of the order (kind `order`: flow rules; `change`: a change request). */
export interface TrackingApprovalChainView {
  approvalId: string;
  chain: string;
  kind: 'order' | 'change';
  chainVersion: string | null;
  status: 'pending' | 'returned' | 'granted' | 'rejected' | 'withdrawn';
  requestedAt: string;
  decidedAt: string | null;
  steps: TrackingApprovalStepView[];
}

/** One parcel of an order: carrier, waybill, tracking number and what the carrier last said. */
export interface TrackingShipmentView {
  shipmentId: string;
  warehouseId: string | null;
  /** packed, intercept_requested, shipped, shipped_after_stop, in_transit, carrier_exception, delivered, returned, stopped. */
  status: string;
  carrier: string | null;
  waybillNo: string | null;
  trackingNumber: string | null;
  lastCarrierState: string | null;
  lastCarrierStateAt: string | null;
  lastCarrierDescription: string | null;
  packedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
}

export interface TrackingOrderDetailView {
  order: TrackingOrderView;
  /** Oldest first. */
  timeline: TrackingTimelineEntryView[];
  stageDurations: TrackingStageDurationView[];
  /** The order's approval chains with each step's state, actor and time (from approval's events). */
  approvalChains?: TrackingApprovalChainView[];
  /** The order's parcels as fulfillment reported them (once packed). */
  shipments?: TrackingShipmentView[];
  /** Set when the view was folded as of a past moment. */
  asOf: string | null;
}

export interface TrackingOrderPage {
  items: TrackingOrderView[];
  /** Opaque; pass as `cursor` for the next page. Null on the last page. */
  nextCursor: string | null;
}

export interface TrackingDurationStats {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
}

/** Business measures over a window [from, to) (DOMAIN.md "What the business measures"). */
export interface TrackingKpiReport {
  from: string;
  to: string;
  channel: string | null;
  /** Orders placed in the window. */
  orders: number;
  /** Cycle time per stage, over the stage visits that ended in the window. */
  cycleTimeByStage: Partial<Record<OrderStage, TrackingDurationStats>>;
  /** Paid -> shipped for orders shipped in the window. */
  paidToShipped: TrackingDurationStats;
  exceptionOrders: number;
  exceptionRate: number | null;
  manualTouchOrders: number;
  manualTouchRate: number | null;
  platformOrders: number;
  autoIngestRate: number | null;
  byChannelAndStage: { channel: string; stage: OrderStage; orders: number }[];
  /** Orders of the window now cancelled or refunded, over the window's orders. */
  cancelledOrders: number;
  cancellationRate: number | null;
  /** For orders shipped in the window: each working stage's share of the time between payment and shipment. */
  stageShares: { stage: OrderStage; share: number; averageMs: number }[];
  /** For orders delivered in the window: (paid -> shipped) over (paid -> delivered); target below 0.30. */
  nonLogisticsShare: number | null;
}

/** One group of open orders sharing channel, shop, stage, SLA colour and flags (GET /api/tracking/counts). */
export interface TrackingCountGroup {
  channel: string;
  shopId: string;
  stage: OrderStage;
  sla: SlaColour;
  onHold: boolean;
  exception: boolean;
  /** In one working stage past the stuck threshold, as the order views say (the SLA clock's last tick). */
  stuck: boolean;
  count: number;
}

/**
 * Every order in the asked stages, counted in groups: a board's tiles and column heads add up the
 * groups its filters keep, so they count every order, not the page of cards it loaded.
 */
export interface TrackingCounts {
  /** When counted (colours and stuck flags are those of the SLA clock's last tick before it). */
  at: string;
  stages: OrderStage[];
  groups: TrackingCountGroup[];
}

/** One line inventory could not reserve for an order: units asked for, units available when it tried. */
export interface TrackingShortageLine {
  sku: string;
  requested: number;
  available: number;
}

/** One SKU that open orders wait for (缺货): inventory could not reserve it for them. */
export interface TrackingShortageSku {
  sku: string;
  /** Open orders short of this SKU (their exception is a stock shortage, not yet resolved). */
  orders: number;
  /** Units those orders asked for on their short lines of this SKU. */
  unitsRequested: number;
  /** The oldest of those orders waits since (paid, or placed when not paid: cash on delivery). */
  waitingSince: string;
}

/** SKUs open orders wait for, most waiting orders first (GET /api/tracking/shortages). */
export interface TrackingShortages {
  at: string;
  /** Open orders short of at least one SKU. */
  orders: number;
  skus: TrackingShortageSku[];
}

/** One order waiting for a SKU, oldest first (GET /api/tracking/shortages/orders?sku=). */
export interface TrackingShortageOrder {
  orderId: string;
  channel: string;
  channelOrderId: string;
  shopId: string;
  /** Units of the SKU its short lines asked for. */
  requested: number;
  /** Units inventory had available for them when it tried. */
  available: number;
  /** Every short line of the order (it may be short of other SKUs too). */
  missing: TrackingShortageLine[];
  waitingSince: string;
}

export interface TrackingStuckOrderView {
  order: TrackingOrderView;
  stuckForMs: number;
  reason: BilingualText;
}

/** A deterministic hash over a schema's projected rows (clock-dependent columns left out). */
export interface TrackingChecksumView {
  schema: string;
  tables: Record<'orderSummary' | 'timelineEntry' | 'stageVisit', { rows: number; md5: string }>;
  /** md5 over the three table hashes. */
  checksum: string;
}

/** One message of the live feed (SSE `data:` / gRPC WatchOrders). */
export type TrackingOrderChange =
  /** `entry`: the order's latest timeline line (unchanged when only the clock moved its colour). */
  | { kind: 'order'; order: TrackingOrderView; entry: TrackingTimelineEntryView | null }
  | { kind: 'rebuilt'; at: string };
