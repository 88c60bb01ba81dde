import type { OrderFlag, TrackingOrderView, TrackingStageDurationView, TrackingTimelineEntryView } from '@flowline/contracts';
import type { StoredOrderSummary } from '../infra/row-mapping';
import { STAGE_LABELS } from '../projections/labels';
import type { TimelineEntryRow } from '../projections/order-timeline.projection';
import type { StageVisitRow } from '../projections/stage-durations.projection';

export function toOrderView(r: StoredOrderSummary): TrackingOrderView {
  const flags: OrderFlag[] = [];
  if (r.onHold) flags.push('on_hold');
  if (r.exception) flags.push('exception');
  return {
    orderId: r.orderId,
    channel: r.channel,
    channelOrderId: r.channelOrderId,
    shopId: r.shopId,
    customerMasked: r.customerMasked,
    customerPhoneMasked: r.customerPhoneMasked,
    province: r.province,
    city: r.city,
    lineCount: r.lineCount,
    itemCount: r.itemCount,
    grandTotal: r.grandTotal,
    currency: r.currency,
    paidAmount: r.paidAmount,
    refundedAmount: r.refundedAmount,
    stage: r.stage,
    stageLabel: STAGE_LABELS[r.stage] ?? { zh: r.stage, en: r.stage },
    stageEnteredAt: r.stageEnteredAt,
    flags,
    holdReason: r.holdReason,
    exceptionCode: r.exceptionCode,
    exceptionReason: r.exceptionReason,
    manualTouch: r.manualTouch,
    ingestMode: r.ingestMode,
    refundRequested: r.refundRequested,
    approvalChain: r.approvalChain,
    lastRule: r.lastRuleId ? { ruleId: r.lastRuleId, ruleSetVersion: r.lastRuleSetVersion, decision: r.lastRuleDecision } : null,
    priority: r.priority,
    carrier: r.carrier,
    trackingNumber: r.trackingNumber,
    placedAt: r.placedAt,
    paidAt: r.paidAt,
    readyToShipAt: r.readyToShipAt,
    shippedAt: r.shippedAt,
    deliveredAt: r.deliveredAt,
    closedAt: r.closedAt,
    sla: { segment: r.slaSegment, startedAt: r.slaStartedAt, yellowAt: r.slaYellowAt, dueAt: r.slaDueAt, colour: r.slaColour, asOf: r.statusAt },
    stuck: r.stuck,
    stuckAt: r.stuckAt,
    etaShipBy: r.etaShipBy,
    lastEventAt: r.lastEventAt,
    eventCount: r.eventCount,
  };
}

export function toTimelineView(t: TimelineEntryRow): TrackingTimelineEntryView {
  return {
    eventId: t.eventId,
    type: t.type,
    context: t.context,
    occurredAt: t.occurredAt,
    streamId: t.streamId,
    streamPosition: t.streamPosition,
    actor: t.actorKind ? { kind: t.actorKind as 'user', id: t.actorId ?? '', role: t.actorRole ?? undefined, name: t.actorName ?? undefined } : null,
    who: { zh: t.whoZh, en: t.whoEn },
    what: { zh: t.whatZh, en: t.whatEn },
    why: t.whyZh !== null || t.whyEn !== null ? { zh: t.whyZh ?? '', en: t.whyEn ?? '' } : null,
    rule: t.ruleId ? { ruleId: t.ruleId, ruleSetVersion: t.ruleSetVersion, ruleSetHash: t.ruleSetHash } : null,
    stageAfter: t.stageAfter,
    correlationId: t.envelope.correlationId,
    causationId: t.envelope.causationId,
  };
}

export function toStageDurationView(v: StageVisitRow): TrackingStageDurationView {
  return { visit: v.visit, stage: v.stage, enteredAt: v.enteredAt, leftAt: v.leftAt, durationMs: v.durationMs };
}
