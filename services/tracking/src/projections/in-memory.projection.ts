import type { SlaConfig } from '../domain/sla';
import type { OrderSummaryRow } from './order-summary.projection';
import { projectEvent } from './order-tracking.projection';
import type { TimelineEntryRow } from './order-timeline.projection';
import { foldStageVisit, type StageVisitRow } from './stage-durations.projection';
import { orderIdOf, type TrackedEvent } from './tracked-event';

/** All projected rows held in memory: the reference the database adapter is tested against. */
export interface InMemoryProjection {
  applied: Set<string>;
  summaries: Map<string, OrderSummaryRow>;
  timeline: Map<string, TimelineEntryRow>;
  /** Keyed by `${orderId}#${visit}`. */
  visits: Map<string, StageVisitRow>;
}

export function emptyProjection(): InMemoryProjection {
  return { applied: new Set(), summaries: new Map(), timeline: new Map(), visits: new Map() };
}

/** Applies events once each (by event id, like the inbox) to an in-memory projection. */
export function projectInMemory(events: Iterable<TrackedEvent>, config: SlaConfig, into: InMemoryProjection = emptyProjection()): InMemoryProjection {
  for (const e of events) {
    if (into.applied.has(e.eventId)) continue;
    into.applied.add(e.eventId);
    const id = orderIdOf(e);
    const result = projectEvent(id ? (into.summaries.get(id) ?? null) : null, e, config);
    if (!result.orderId) continue;
    if (result.summaryChanged && result.summary) into.summaries.set(result.orderId, result.summary);
    if (result.timeline) into.timeline.set(result.timeline.eventId, result.timeline);
    for (const c of result.stageVisits) foldStageVisit(into.visits, c);
  }
  return into;
}
