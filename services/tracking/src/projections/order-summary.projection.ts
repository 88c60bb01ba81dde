import { customerPaidAt, maskName, maskPhone, type Actor, type OrderStage, type TrackingShortageLine } from '@flowline/contracts';
import { assertNever } from '@flowline/domain';
import { etaShipBy, isStuck, segmentOf, slaColour, slaDeadlines, stuckAt, type SlaColour, type SlaConfig } from '../domain/sla';
import type { OrderEvent } from './tracked-event';

/** One line inventory could not reserve: units asked for and units available when it tried. */
export type ShortageLine = TrackingShortageLine;

/** How an order came in: `auto` from a channel feed or service, `manual` when a person keyed it in. */
export type IngestMode = 'auto' | 'manual';

/**
 * One row per order: what a board shows. Every field is a pure function of the order's events on
 * `orders.events.v1` (ordered per order by the partition key), so live and rebuilt rows are equal.
 * Time-dependent status (SLA colour, stuck) is derived from the stored deadlines by {@link clockStatus}.
 */
export interface OrderSummaryRow {
  orderId: string;
  channel: string;
  channelOrderId: string;
  shopId: string;
  /** Masked display name (张*), never the full name. */
  customerMasked: string | null;
  customerPhoneMasked: string | null;
  /**
   * The last four digits of that phone (尾号), read from the masked phone the events carry, for
   * staff who look an order up by it; tracking never holds the full number.
   */
  phoneTail: string | null;
  /** The SKUs of the order's lines (distinct, sorted), for the search by SKU; follows an applied change. */
  skus: string[];
  province: string | null;
  city: string | null;
  lineCount: number;
  itemCount: number;
  /** Integer minor units. */
  grandTotal: number;
  currency: string;
  paidAmount: number;
  refundedAmount: number;
  stage: OrderStage;
  stageEnteredAt: string;
  /** Number of the current stage visit (1 for `placed`); stage-duration rows are keyed by it. */
  stageVisit: number;
  onHold: boolean;
  holdReason: string | null;
  exception: boolean;
  exceptionCode: string | null;
  exceptionReason: string | null;
  /**
   * While the order waits for stock as an exception because inventory could not reserve it (缺货):
   * the lines that were short, as inventory reported them (`available` then; `requested` follows an
   * applied change of the lines). Null otherwise: cleared when the exception is resolved (the
   * reservation is tried again), the stock is reserved, or the order leaves placed / paid.
   */
  shortage: ShortageLine[] | null;
  /** The order was flagged as an exception at some point (KPI: exception rate). */
  everException: boolean;
  /** A person had to decide something about this order (KPI: manual-touch rate). */
  manualTouch: boolean;
  ingestMode: IngestMode;
  refundRequested: boolean;
  approvalChain: string | null;
  lastRuleId: string | null;
  lastRuleSetVersion: string | null;
  lastRuleDecision: string | null;
  priority: 'normal' | 'high';
  carrier: string | null;
  trackingNumber: string | null;
  /** When the channel says the buyer placed it. */
  placedAt: string;
  paidAt: string | null;
  readyToShipAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  /** Archived, cancelled or refunded. */
  closedAt: string | null;
  /** SLA segment whose clock runs now (config id), with its start and deadlines. */
  slaSegment: string | null;
  slaStartedAt: string | null;
  slaYellowAt: string | null;
  slaDueAt: string | null;
  /** When the order becomes stuck if it stays in this stage. */
  stuckAt: string | null;
  /** Ship-by estimate from the SLA budgets. */
  etaShipBy: string | null;
  lastEventAt: string;
  lastStreamPosition: number;
  eventCount: number;
}

const TERMINAL: readonly OrderStage[] = ['cancelled', 'refunded'];
const CLOSED: readonly OrderStage[] = ['archived', 'cancelled', 'refunded'];

/** 尾号: the last four digits of a (masked) phone, e.g. 138****5678 -> 5678; null when it does not end in four digits. */
export function phoneTailOf(phoneMasked: string | null): string | null {
  return (phoneMasked && /(\d{4})$/.exec(phoneMasked.trim())?.[1]) || null;
}

/**
 * The distinct SKUs of some lines, sorted by UTF-16 code unit (for ASCII and BMP text the same
 * order as PostgreSQL's `COLLATE "C"`, which the v3 migration's backfill uses).
 */
export function skusOf(lines: readonly { sku: string }[]): string[] {
  return [...new Set(lines.map((l) => l.sku).filter((sku) => typeof sku === 'string' && sku !== ''))].sort();
}

/** A person decided something when the actor is a staff user. */
function byStaff(actor: Actor | undefined): boolean {
  return actor?.kind === 'user';
}

/**
 * The stage an order event moves the order into from `from`, if it moves it at all. A payment moves
 * only a placed order to paid, as order-intake's decider does: a presale balance (尾款), a change's
 * price difference or cash collected at delivery (货到付款) is recorded where the order stands.
 */
export function stageAfter(e: OrderEvent, from: OrderStage): OrderStage | undefined {
  switch (e.type) {
    case 'OrderPlaced':
      return 'placed';
    case 'OrderPaid':
      return from === 'placed' ? 'paid' : undefined;
    case 'OrderStockReserved':
      return 'stock_reserved';
    case 'OrderApprovalRequired':
      return 'awaiting_approval';
    case 'OrderReadyToShip':
      return 'ready_to_ship';
    case 'OrderPacked':
      return 'packed';
    case 'OrderShipped':
      return 'shipped';
    case 'OrderDelivered':
      return 'delivered';
    case 'OrderArchived':
      return 'archived';
    case 'OrderCancelled':
      return 'cancelled';
    case 'OrderRefunded':
      return e.data.afterShipment ? undefined : 'refunded';
    case 'OrderStockShortage':
    case 'OrderRuleDecided':
    case 'OrderApproved':
    case 'OrderApprovalRejected':
    case 'OrderRefundRequested':
    case 'OrderPutOnHold':
    case 'OrderHoldReleased':
    case 'OrderExceptionFlagged':
    case 'OrderExceptionResolved':
    case 'OrderChanged':
    case 'OrderChangeRefused':
    case 'OrderPaymentDue':
    case 'OrderPartialRefundRequested':
    case 'OrderPartialRefunded':
    case 'OrderPiiRevealed':
      return undefined;
    default:
      return assertNever(e, 'order event');
  }
}

/** Enters `stage` at `at`: stage clock, SLA segment (kept when the new stage is in the same segment), stuck time, ETA. */
function enterStage(row: OrderSummaryRow, stage: OrderStage, at: string, config: SlaConfig): OrderSummaryRow {
  const segment = segmentOf(stage, config);
  const slaStartedAt = segment ? (segment.id === row.slaSegment && row.slaStartedAt ? row.slaStartedAt : at) : null;
  const deadlines = slaStartedAt ? slaDeadlines(stage, slaStartedAt, config) : undefined;
  return {
    ...row,
    stage,
    stageEnteredAt: at,
    stageVisit: row.stageVisit + 1,
    slaSegment: segment?.id ?? null,
    slaStartedAt,
    slaYellowAt: deadlines?.yellowAt ?? null,
    slaDueAt: deadlines?.dueAt ?? null,
    stuckAt: stuckAt(stage, at, config) ?? null,
    etaShipBy: slaStartedAt ? (etaShipBy(stage, slaStartedAt, config) ?? null) : null,
    closedAt: CLOSED.includes(stage) ? at : row.closedAt,
  };
}

function placedRow(e: Extract<OrderEvent, { type: 'OrderPlaced' }>, config: SlaConfig): OrderSummaryRow {
  const d = e.data;
  const customerPhoneMasked = maskPhone(d.customer.phoneMasked ?? d.shippingAddress.phoneMasked) || null;
  const base: OrderSummaryRow = {
    orderId: d.orderId,
    channel: d.channel,
    channelOrderId: d.channelOrderId,
    shopId: d.shopId,
    customerMasked: d.customer.nameMasked ?? (maskName(d.customer.nickname ?? d.customer.channelCustomerId) || null),
    customerPhoneMasked,
    phoneTail: phoneTailOf(customerPhoneMasked),
    skus: skusOf(d.lines),
    province: d.shippingAddress.province || null,
    city: d.shippingAddress.city || null,
    lineCount: d.lines.length,
    itemCount: d.lines.reduce((n, l) => n + l.quantity, 0),
    grandTotal: d.totals.grandTotal,
    currency: d.totals.currency,
    paidAmount: 0,
    refundedAmount: 0,
    stage: 'placed',
    stageEnteredAt: e.occurredAt,
    stageVisit: 0,
    onHold: false,
    holdReason: null,
    exception: false,
    exceptionCode: null,
    exceptionReason: null,
    shortage: null,
    everException: false,
    manualTouch: byStaff(e.actor),
    ingestMode: byStaff(e.actor) ? 'manual' : 'auto',
    refundRequested: false,
    approvalChain: null,
    lastRuleId: null,
    lastRuleSetVersion: null,
    lastRuleDecision: null,
    priority: 'normal',
    carrier: null,
    trackingNumber: null,
    placedAt: d.placedAt,
    paidAt: null,
    readyToShipAt: null,
    shippedAt: null,
    deliveredAt: null,
    closedAt: null,
    slaSegment: null,
    slaStartedAt: null,
    slaYellowAt: null,
    slaDueAt: null,
    stuckAt: null,
    etaShipBy: null,
    lastEventAt: e.occurredAt,
    lastStreamPosition: e.streamPosition,
    eventCount: 1,
  };
  return enterStage(base, 'placed', e.occurredAt, config);
}

/**
 * When the stage an event moves to began: the event's time, except for OrderShipped, whose
 * `shippedAt` is the real handover to the carrier (the end of the ready -> shipped SLA segment),
 * never before the current stage was entered.
 */
function stageTimeOf(e: OrderEvent, row: OrderSummaryRow): string {
  if (e.type !== 'OrderShipped' || !e.data.shippedAt || Number.isNaN(Date.parse(e.data.shippedAt))) return e.occurredAt;
  const t = Math.max(Date.parse(e.data.shippedAt), Date.parse(row.stageEnteredAt));
  return Math.min(t, Date.parse(e.occurredAt)) === t ? new Date(t).toISOString() : e.occurredAt;
}

/**
 * Folds one order event into the order's summary row. Returns the row unchanged (same object) when
 * the event changes nothing: an event before `OrderPlaced`, a repeated or older stream position.
 * Terminal stages (cancelled, refunded) are never left.
 */
export function projectOrderSummary(row: OrderSummaryRow | null, e: OrderEvent, config: SlaConfig): OrderSummaryRow | null {
  if (e.type === 'OrderPlaced') return row ?? placedRow(e, config);
  if (!row) return null;
  // Per-order order is guaranteed by the partition key; an older position is a stale redelivery.
  if (e.streamPosition < row.lastStreamPosition) return row;
  // An audited look at the personal data: the order did not move and nobody handled it (no manual
  // touch, no activity for the SLA); only the position is counted.
  if (e.type === 'OrderPiiRevealed') return { ...row, lastStreamPosition: e.streamPosition, eventCount: row.eventCount + 1 };

  let next: OrderSummaryRow = {
    ...row,
    lastEventAt: Date.parse(e.occurredAt) > Date.parse(row.lastEventAt) ? e.occurredAt : row.lastEventAt,
    lastStreamPosition: e.streamPosition,
    eventCount: row.eventCount + 1,
    manualTouch: row.manualTouch || byStaff(e.actor),
  };
  const target = stageAfter(e, row.stage);
  if (target && target !== row.stage && !TERMINAL.includes(row.stage)) next = enterStage(next, target, stageTimeOf(e, row), config);
  const after = applyOrderEvent(next, e, row);
  // A shortage is listed only while it keeps the order waiting: an open exception before reservation.
  return after.shortage && !(after.exception && AWAITING_STOCK.includes(after.stage)) ? { ...after, shortage: null } : after;
}

/** The stages in which an order waits for its stock to be reserved. */
const AWAITING_STOCK: readonly OrderStage[] = ['placed', 'paid'];

/**
 * The short lines after an applied change of the order's lines: each SKU's units are the changed
 * order's (its lines of that SKU added up); a SKU the order no longer has is dropped.
 */
function shortageAfterChange(shortage: ShortageLine[] | null, lines: readonly { sku: string; quantity: number }[]): ShortageLine[] | null {
  if (!shortage) return null;
  const units = new Map<string, number>();
  for (const l of lines) units.set(l.sku, (units.get(l.sku) ?? 0) + (Number.isFinite(l.quantity) ? l.quantity : 0));
  const kept = shortage.filter((m) => (units.get(m.sku) ?? 0) > 0).map((m) => ({ ...m, requested: units.get(m.sku)! }));
  return kept.length > 0 ? kept : null;
}

/** The shortage lines an event reports, when it reports any (well-formed ones only). */
function shortageLines(missing: unknown): ShortageLine[] | null {
  if (!Array.isArray(missing)) return null;
  const lines = missing
    .filter((m): m is ShortageLine => !!m && typeof m === 'object' && typeof m.sku === 'string' && m.sku !== '' && Number.isFinite(m.requested) && Number.isFinite(m.available))
    .map((m) => ({ sku: m.sku, requested: m.requested, available: m.available }));
  return lines.length > 0 ? lines : null;
}

/** The fields one order event sets, on the row with its stage already moved (`row`: before the event). */
function applyOrderEvent(next: OrderSummaryRow, e: OrderEvent, row: OrderSummaryRow): OrderSummaryRow {
  switch (e.type) {
    case 'OrderPlaced':
    case 'OrderPiiRevealed':
      // Handled before: the first creates the row, the second only counts.
      return next;
    case 'OrderPaid':
      // Payments add up (deposit then balance, a change's difference); paid since the first one,
      // when the customer paid (an imported order's platform time, not when it was imported).
      return row.paidAt ? { ...next, paidAmount: row.paidAmount + e.data.amount } : { ...next, paidAmount: e.data.amount, paidAt: customerPaidAt(e.data) };
    case 'OrderStockReserved':
      return { ...next, shortage: null };
    case 'OrderStockShortage':
      return {
        ...next,
        exception: true,
        everException: true,
        manualTouch: true,
        // An exception already open (flagged while the reservation was in flight) stays the one a
        // person resolves: the shortage does not take its code over.
        ...(next.exception ? {} : { exceptionCode: 'stock_shortage', exceptionReason: e.data.missing.map((m) => `${m.sku} ${m.available}/${m.requested}`).join(', ') }),
        shortage: shortageLines(e.data.missing),
      };
    case 'OrderRuleDecided':
      return {
        ...next,
        lastRuleId: e.data.ruleId,
        lastRuleSetVersion: e.data.ruleSetVersion,
        lastRuleDecision: e.data.decision,
        priority: e.data.decision === 'priority' ? 'high' : next.priority,
      };
    case 'OrderApprovalRequired':
      return { ...next, manualTouch: true, approvalChain: e.data.chain, lastRuleId: e.data.ruleId, lastRuleSetVersion: e.data.ruleSetVersion, lastRuleDecision: 'require_approval' };
    case 'OrderApproved':
    case 'OrderApprovalRejected':
      // A person decided either way; the next stage comes with OrderReadyToShip or OrderCancelled.
      return { ...next, manualTouch: true, approvalChain: e.data.chain };
    case 'OrderReadyToShip':
      return { ...next, priority: e.data.priority, readyToShipAt: e.occurredAt };
    case 'OrderPacked':
      return next;
    case 'OrderShipped':
      return { ...next, carrier: e.data.carrier, trackingNumber: e.data.trackingNumber, shippedAt: stageTimeOf(e, row) };
    case 'OrderDelivered':
      return { ...next, deliveredAt: e.data.deliveredAt };
    case 'OrderArchived':
      return next;
    case 'OrderCancelled':
      return { ...next, onHold: false, holdReason: null, exception: false, exceptionCode: null, exceptionReason: null };
    case 'OrderRefundRequested':
      return { ...next, refundRequested: true };
    case 'OrderRefunded':
      return { ...next, refundRequested: false, refundedAmount: next.refundedAmount + e.data.amount };
    case 'OrderPutOnHold':
      return { ...next, onHold: true, holdReason: e.data.reason, manualTouch: true };
    case 'OrderHoldReleased':
      return { ...next, onHold: false, holdReason: null };
    case 'OrderExceptionFlagged':
      // The shortage lines (if any) stay: the process manager's STOCK_SHORTAGE flag repeats them.
      return { ...next, exception: true, everException: true, manualTouch: true, exceptionCode: e.data.code, exceptionReason: e.data.reason };
    case 'OrderExceptionResolved':
      return { ...next, exception: false, exceptionCode: null, exceptionReason: null, shortage: null };
    case 'OrderChanged':
      // An approved change request: people touched the order; its total is the one after the change.
      // A new address (published masked) moves the order's destination.
      return {
        ...next,
        manualTouch: true,
        grandTotal: e.data.totals.grandTotal,
        skus: skusOf(e.data.lines),
        shortage: shortageAfterChange(next.shortage, e.data.lines),
        ...(e.data.shippingAddress ? { province: e.data.shippingAddress.province || null, city: e.data.shippingAddress.city || null } : {}),
      };
    case 'OrderChangeRefused':
    case 'OrderPaymentDue':
    case 'OrderPartialRefundRequested':
      return next;
    case 'OrderPartialRefunded':
      return { ...next, refundedAmount: next.refundedAmount + e.data.amount };
    default:
      return assertNever(e, 'order event');
  }
}

/**
 * The "awaiting approval" SLA runs per approval step (approval's ApprovalStepStarted: each step has
 * its own due time, 8 h by default): while the order awaits approval, a step that starts restarts
 * the segment clock with the step's start and due time. A step older than the clock, or one seen
 * before the order is awaiting approval (topics interleave), changes nothing: the stage's own start
 * and budget stand until the next step starts.
 */
export function applyApprovalStep(row: OrderSummaryRow | null, step: { startedAt: string; dueAt: string }, config: SlaConfig): OrderSummaryRow | null {
  if (!row || row.stage !== 'awaiting_approval' || row.slaSegment !== 'approval') return row;
  const start = Date.parse(step.startedAt);
  const due = Date.parse(step.dueAt);
  if (Number.isNaN(start) || Number.isNaN(due) || due < start) return row;
  if (row.slaStartedAt && start < Date.parse(row.slaStartedAt)) return row;
  if (row.slaStartedAt === step.startedAt && row.slaDueAt === step.dueAt) return row;
  return {
    ...row,
    slaStartedAt: step.startedAt,
    slaYellowAt: new Date(start + Math.ceil((due - start) * config.yellowAt)).toISOString(),
    slaDueAt: step.dueAt,
    etaShipBy: etaShipBy(row.stage, step.startedAt, config) ?? null,
  };
}

/** Time-dependent status of a row at `now`; the clock job stores it so filters and boards need no event. */
export function clockStatus(row: Pick<OrderSummaryRow, 'stage' | 'slaStartedAt' | 'stageEnteredAt'>, now: string, config: SlaConfig): { slaColour: SlaColour; stuck: boolean } {
  return {
    slaColour: row.slaStartedAt ? slaColour(row.stage, row.slaStartedAt, now, config) : 'none',
    stuck: isStuck(row.stage, row.stageEnteredAt, now, config),
  };
}
