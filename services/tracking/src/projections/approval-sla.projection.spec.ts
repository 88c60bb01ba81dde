import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG } from '../domain/sla';
import { EventBuilder, placedData } from '../../test/fixtures/events';
import { projectInMemory } from './in-memory.projection';
import { projectEvent } from './order-tracking.projection';
import type { TrackedEvent } from './tracked-event';

const config = DEFAULT_SLA_CONFIG;
const T0 = '2026-03-02T01:00:00.000Z';

/** o-1 placed, paid, reserved and awaiting approval since 01:03 (clock one minute per event). */
function awaitingApproval() {
  const b = new EventBuilder(T0);
  const events: TrackedEvent[] = [
    b.event('OrderPlaced', placedData('o-1', {}, T0)),
    b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: '2026-03-02T01:01:00.000Z' }),
    b.event('OrderStockReserved', { orderId: 'o-1', reservationId: 'r-1', allocations: [{ lineId: 'l1', sku: 'SKU-TEA-01', warehouseId: 'hz-1', quantity: 2 }] }),
    b.event('OrderApprovalRequired', { orderId: 'o-1', chain: 'custom-order', ruleId: 'custom', ruleSetVersion: 'rs-7' }),
  ];
  return { b, events };
}

const step = (step: string, startedAt: string, dueAt: string) =>
  ({ approvalId: 'ap-1', orderId: 'o-1', step, role: 'designer', quorum: 'any' as const, attempt: 1, startedAt, remindAt: startedAt, dueAt });

describe('awaiting-approval SLA per approval step (ApprovalStepStarted)', () => {
  it('each step that starts restarts the segment clock with its own start and due time (8 h per step by default)', () => {
    const { b, events } = awaitingApproval();
    const state = projectInMemory(events, config);
    const before = state.summaries.get('o-1') ?? null;
    expect(before).toMatchObject({ slaSegment: 'approval', slaStartedAt: '2026-03-02T01:03:00.000Z', slaDueAt: '2026-03-02T09:03:00.000Z' });
    // The second step starts at 08:00: its own 8 h run to 16:00, yellow from 80 %.
    const second = projectEvent(before, b.event('ApprovalStepStarted', step('design_review', '2026-03-02T08:00:00.000Z', '2026-03-02T16:00:00.000Z'), { actor: { kind: 'service', id: 'approval' } }), config);
    expect(second.summaryChanged).toBe(true);
    expect(second.summary).toMatchObject({
      stage: 'awaiting_approval', slaSegment: 'approval', slaStartedAt: '2026-03-02T08:00:00.000Z',
      slaYellowAt: '2026-03-02T14:24:00.000Z', slaDueAt: '2026-03-02T16:00:00.000Z', etaShipBy: '2026-03-03T16:00:00.000Z',
    });
    expect(second.stageVisits).toEqual([]);
    expect(second.timeline).toBeDefined();
  });

  it('a step with its own SLA (e.g. 2 h) sets that due time', () => {
    const { b, events } = awaitingApproval();
    const before = projectInMemory(events, config).summaries.get('o-1') ?? null;
    const r = projectEvent(before, b.event('ApprovalStepStarted', step('sales_review', '2026-03-02T01:04:00.000Z', '2026-03-02T03:04:00.000Z')), config);
    expect(r.summary).toMatchObject({ slaStartedAt: '2026-03-02T01:04:00.000Z', slaDueAt: '2026-03-02T03:04:00.000Z', slaYellowAt: '2026-03-02T02:40:00.000Z' });
  });

  it('changes nothing before the order awaits approval, for an older step, or once the order moved on', () => {
    const { b, events } = awaitingApproval();
    const reserved = projectInMemory(events.slice(0, 3), config).summaries.get('o-1') ?? null;
    const early = projectEvent(reserved, b.event('ApprovalStepStarted', step('sales_review', '2026-03-02T01:02:00.000Z', '2026-03-02T09:02:00.000Z')), config);
    expect(early.summaryChanged).toBe(false);
    const awaiting = projectInMemory(events, config).summaries.get('o-1') ?? null;
    const older = projectEvent(awaiting, b.event('ApprovalStepStarted', step('sales_review', '2026-03-02T01:00:00.000Z', '2026-03-02T09:00:00.000Z')), config);
    expect(older.summaryChanged).toBe(false);
    const ready = projectInMemory([...events, b.event('OrderReadyToShip', { orderId: 'o-1', priority: 'normal', freeShipping: false, requiresQc: false })], config).summaries.get('o-1') ?? null;
    const late = projectEvent(ready, b.event('ApprovalStepStarted', step('gm_approval', '2026-03-02T12:00:00.000Z', '2026-03-02T20:00:00.000Z')), config);
    expect(late.summaryChanged).toBe(false);
  });
});
