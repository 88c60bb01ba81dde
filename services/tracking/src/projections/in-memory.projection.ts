import type { SlaConfig } from '../domain/sla';
import type { OrderSummaryRow } from './order-summary.projection';
import { projectEvent } from './order-tracking.projection';
import type { TimelineEntryRow } from './order-timeline.projection';
import type { StageVisitRow } from './stage-durations.projection';
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
    for (const c of result.stageVisits) {
      if (c.kind === 'open') into.visits.set(`${c.row.orderId}#${c.row.visit}`, c.row);
      else {
        const key = `${c.orderId}#${c.visit}`;
        // A close carries the whole visit: one whose open was never seen is recorded as the store records it.
        const v = into.visits.get(key) ?? { orderId: c.orderId, visit: c.visit, stage: c.stage, channel: c.channel, enteredAt: c.enteredAt, leftAt: null, durationMs: null };
        into.visits.set(key, { ...v, leftAt: c.leftAt, durationMs: c.durationMs });
      }
    }
  }
  return into;
}
