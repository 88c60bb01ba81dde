import type { OrderStage } from '@flowline/contracts';
import type { SlaColour } from '../domain/sla';
import type { OrderSummaryRow } from '../projections/order-summary.projection';
import type { TimelineEntryRow } from '../projections/order-timeline.projection';
import type { StageVisitRow } from '../projections/stage-durations.projection';
import type { SourceContext, TrackedEvent } from '../projections/tracked-event';

/**
 * Key <-> column names, remembered: every summary and timeline row of every projection batch maps
 * each of its ~50 names, and converting them anew was tracking's largest allocation (issue #10, a
 * sampled allocation profile). The names are the tables' (a fixed, small set).
 */
const memo = (convert: (k: string) => string): ((k: string) => string) => {
  const known = new Map<string, string>();
  return (k) => {
    let v = known.get(k);
    if (v === undefined) known.set(k, (v = convert(k)));
    return v;
  };
};
const snake = memo((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
const camel = memo((k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));

/** Keys of a row in camelCase, for the summary columns every projection transaction writes. */
export const SUMMARY_KEYS = [
  'orderId', 'channel', 'channelOrderId', 'shopId', 'customerMasked', 'customerPhoneMasked', 'province', 'city', 'lineCount',
  'itemCount', 'grandTotal', 'currency', 'paidAmount', 'refundedAmount', 'stage', 'stageEnteredAt', 'stageVisit', 'onHold',
  'holdReason', 'exception', 'exceptionCode', 'exceptionReason', 'everException', 'manualTouch', 'ingestMode', 'refundRequested',
  'approvalChain', 'lastRuleId', 'lastRuleSetVersion', 'lastRuleDecision', 'priority', 'carrier', 'trackingNumber', 'placedAt',
  'paidAt', 'readyToShipAt', 'shippedAt', 'deliveredAt', 'closedAt', 'slaSegment', 'slaStartedAt', 'slaYellowAt', 'slaDueAt',
  'stuckAt', 'etaShipBy', 'lastEventAt', 'lastStreamPosition', 'eventCount', 'phoneTail', 'skus',
  'shortage',
] as const satisfies readonly (keyof OrderSummaryRow)[];
export const SUMMARY_COLUMNS = SUMMARY_KEYS.map(snake);

const SUMMARY_TIMES = new Set<string>(['stageEnteredAt', 'placedAt', 'paidAt', 'readyToShipAt', 'shippedAt', 'deliveredAt', 'closedAt', 'slaStartedAt', 'slaYellowAt', 'slaDueAt', 'stuckAt', 'etaShipBy', 'lastEventAt']);
const SUMMARY_BIGINTS = new Set<string>(['grandTotal', 'paidAmount', 'refundedAmount', 'lastStreamPosition']);

/** A summary row as stored, with the clock-dependent columns. */
export interface StoredOrderSummary extends OrderSummaryRow {
  slaColour: SlaColour;
  stuck: boolean;
  statusAt: string | null;
  updatedAt: string;
}

/** Every column summaryFromRecord maps (the projection's and the clock status), for statements that name them. */
export const STORED_SUMMARY_COLUMNS = [...SUMMARY_COLUMNS, 'sla_colour', 'stuck', 'status_at', 'updated_at'];

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

/** Record for `jsonb_populate_recordset`: snake_case keys, plus the clock status computed at write time. */
export function summaryToRecord(row: OrderSummaryRow, status: { slaColour: SlaColour; stuck: boolean; statusAt: string }): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const k of SUMMARY_KEYS) rec[snake(k)] = row[k];
  rec.sla_colour = status.slaColour;
  rec.stuck = status.stuck;
  rec.status_at = status.statusAt;
  return rec;
}

/** A database row (pg: Date for timestamptz, string for bigint) back to the projection's shape. */
export function summaryFromRecord(rec: Record<string, unknown>): StoredOrderSummary {
  const row: Record<string, unknown> = {};
  for (const [col, value] of Object.entries(rec)) {
    const k = camel(col);
    if (SUMMARY_TIMES.has(k) || k === 'statusAt' || k === 'updatedAt') row[k] = iso(value);
    else if (SUMMARY_BIGINTS.has(k)) row[k] = value === null ? null : Number(value);
    else row[k] = value;
  }
  return row as unknown as StoredOrderSummary;
}

/** Only the projection's own fields (drops the clock status), for feeding a stored row back into the projection. */
export function projectionFields(stored: StoredOrderSummary): OrderSummaryRow {
  const row: Record<string, unknown> = {};
  for (const k of SUMMARY_KEYS) row[k] = stored[k];
  return row as unknown as OrderSummaryRow;
}

export const TIMELINE_KEYS = [
  'eventId', 'orderId', 'occurredAt', 'type', 'context', 'streamId', 'streamPosition', 'actorKind', 'actorId', 'actorRole',
  'actorName', 'whoZh', 'whoEn', 'whatZh', 'whatEn', 'whyZh', 'whyEn', 'ruleId', 'ruleSetVersion', 'ruleSetHash', 'stageAfter',
  'envelope',
] as const satisfies readonly (keyof TimelineEntryRow)[];

export const TIMELINE_COLUMNS = TIMELINE_KEYS.map(snake);

export function timelineToRecord(row: TimelineEntryRow): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const k of TIMELINE_KEYS) rec[snake(k)] = row[k];
  return rec;
}

export function timelineFromRecord(rec: Record<string, unknown>): TimelineEntryRow {
  return {
    eventId: rec.event_id as string,
    orderId: rec.order_id as string,
    occurredAt: iso(rec.occurred_at)!,
    type: rec.type as string,
    context: rec.context as SourceContext,
    streamId: rec.stream_id as string,
    streamPosition: Number(rec.stream_position),
    actorKind: (rec.actor_kind as string | null) ?? null,
    actorId: (rec.actor_id as string | null) ?? null,
    actorRole: (rec.actor_role as string | null) ?? null,
    actorName: (rec.actor_name as string | null) ?? null,
    whoZh: rec.who_zh as string,
    whoEn: rec.who_en as string,
    whatZh: rec.what_zh as string,
    whatEn: rec.what_en as string,
    whyZh: (rec.why_zh as string | null) ?? null,
    whyEn: (rec.why_en as string | null) ?? null,
    ruleId: (rec.rule_id as string | null) ?? null,
    ruleSetVersion: (rec.rule_set_version as string | null) ?? null,
    ruleSetHash: (rec.rule_set_hash as string | null) ?? null,
    stageAfter: (rec.stage_after as OrderStage | null) ?? null,
    envelope: rec.envelope as TrackedEvent,
  };
}

export function visitToRecord(row: StageVisitRow): Record<string, unknown> {
  return { order_id: row.orderId, visit: row.visit, stage: row.stage, channel: row.channel, entered_at: row.enteredAt, left_at: row.leftAt, duration_ms: row.durationMs };
}

export function visitFromRecord(rec: Record<string, unknown>): StageVisitRow {
  return {
    orderId: rec.order_id as string,
    visit: Number(rec.visit),
    stage: rec.stage as OrderStage,
    channel: rec.channel as string,
    enteredAt: iso(rec.entered_at)!,
    leftAt: iso(rec.left_at),
    durationMs: rec.duration_ms === null || rec.duration_ms === undefined ? null : Number(rec.duration_ms),
  };
}
