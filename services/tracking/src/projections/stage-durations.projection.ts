import type { OrderStage } from '@flowline/contracts';
import type { OrderSummaryRow } from './order-summary.projection';

/** One stay of an order in a stage. `leftAt`/`durationMs` stay null while the order is still there. */
export interface StageVisitRow {
  orderId: string;
  /** 1-based, in journey order; (orderId, visit) is the key. */
  visit: number;
  stage: OrderStage;
  channel: string;
  enteredAt: string;
  leftAt: string | null;
  durationMs: number | null;
}

export type StageVisitChange =
  | { kind: 'open'; row: StageVisitRow }
  /** The visit left; it carries the visit's own fields too, so a store can write it by key alone (an upsert, no join). */
  | { kind: 'close'; orderId: string; visit: number; stage: OrderStage; channel: string; enteredAt: string; leftAt: string; durationMs: number };

/**
 * Stage-duration changes implied by a summary moving from `before` to `after`: close the visit the
 * order left and open the one it entered. No change when the stage did not change.
 */
export function projectStageDurations(before: OrderSummaryRow | null, after: OrderSummaryRow | null): StageVisitChange[] {
  if (!after || (before && before.stageVisit === after.stageVisit)) return [];
  const changes: StageVisitChange[] = [];
  if (before) {
    changes.push({
      kind: 'close',
      orderId: before.orderId,
      visit: before.stageVisit,
      stage: before.stage,
      channel: before.channel,
      enteredAt: before.stageEnteredAt,
      leftAt: after.stageEnteredAt,
      durationMs: Math.max(0, Date.parse(after.stageEnteredAt) - Date.parse(before.stageEnteredAt)),
    });
  }
  changes.push({
    kind: 'open',
    row: { orderId: after.orderId, visit: after.stageVisit, stage: after.stage, channel: after.channel, enteredAt: after.stageEnteredAt, leftAt: null, durationMs: null },
  });
  return changes;
}


/**
 * Folds one change into visits keyed `orderId#visit`: an open sets its row; a close sets the times
 * of the visit it names, or records the whole closed visit when its open is not there (the in-memory
 * projection, and a store batch whose open was written by an earlier batch: the store's upsert then
 * only sets the times).
 */
export function foldStageVisit(visits: Map<string, StageVisitRow>, c: StageVisitChange): void {
  if (c.kind === 'open') {
    visits.set(`${c.row.orderId}#${c.row.visit}`, c.row);
    return;
  }
  const key = `${c.orderId}#${c.visit}`;
  const v = visits.get(key) ?? { orderId: c.orderId, visit: c.visit, stage: c.stage, channel: c.channel, enteredAt: c.enteredAt, leftAt: null, durationMs: null };
  visits.set(key, { ...v, leftAt: c.leftAt, durationMs: c.durationMs });
}
