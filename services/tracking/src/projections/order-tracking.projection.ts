import type { SlaConfig } from '../domain/sla';
import { applyApprovalStep, projectOrderSummary, type OrderSummaryRow } from './order-summary.projection';
import { projectTimelineEntry, type TimelineEntryRow } from './order-timeline.projection';
import { projectStageDurations, type StageVisitChange } from './stage-durations.projection';
import { isOrderEvent, orderIdOf, type TrackedEvent } from './tracked-event';

/** Every row change one event causes, for the adapter to write in one transaction. */
export interface ProjectionResult {
  /** Undefined for events not about an order (stock levels, ATP). */
  orderId: string | undefined;
  /** The summary after the event (null when the order has no `OrderPlaced` yet). */
  summary: OrderSummaryRow | null;
  /** True when `summary` differs from the row passed in and must be written. */
  summaryChanged: boolean;
  timeline: TimelineEntryRow | undefined;
  stageVisits: StageVisitChange[];
}

/**
 * Projects one event given the order's current summary. Only order events change the summary and
 * stage durations (they are ordered per order); events of other contexts add timeline lines only, so
 * the result never depends on how topics interleave, and a replay gives the same rows as live.
 */
export function projectEvent(before: OrderSummaryRow | null, e: TrackedEvent, config: SlaConfig): ProjectionResult {
  const orderId = orderIdOf(e);
  if (!orderId) return { orderId: undefined, summary: before, summaryChanged: false, timeline: undefined, stageVisits: [] };
  if (!isOrderEvent(e)) {
    // The one exception: an approval step's start restarts the awaiting-approval SLA (per step).
    const summary = e.type === 'ApprovalStepStarted' ? applyApprovalStep(before, e.data, config) : before;
    return { orderId, summary, summaryChanged: summary !== before, timeline: projectTimelineEntry(e), stageVisits: [] };
  }
  const after = projectOrderSummary(before, e, config);
  const changed = after !== before;
  const timeline = projectTimelineEntry(e, {
    currency: before?.currency ?? after?.currency,
    lastRule: before?.lastRuleId ? { ruleId: before.lastRuleId, ruleSetVersion: before.lastRuleSetVersion ?? '', decision: before.lastRuleDecision ?? '' } : null,
    stageAfter: after?.stage ?? null,
  });
  return { orderId, summary: after, summaryChanged: changed, timeline, stageVisits: changed ? projectStageDurations(before, after) : [] };
}

/** An order's summary as of a moment: its order events up to then, folded again (as-of queries). */
export function summaryAsOf(events: readonly TrackedEvent[], asOf: string, config: SlaConfig): OrderSummaryRow | null {
  const t = Date.parse(asOf);
  const orderEvents = events
    .filter(isOrderEvent)
    .filter((e) => Date.parse(e.occurredAt) <= t)
    .sort((a, b) => a.streamPosition - b.streamPosition);
  return orderEvents.reduce<OrderSummaryRow | null>((row, e) => projectOrderSummary(row, e, config), null);
}
