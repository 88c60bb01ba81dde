import { describe, expect, it } from 'vitest';
import { CHANNELS, ORDER_STAGES } from './order.types';
import type { OrderSubmission } from './order.types';
import { ORDER_EVENT_TYPES, type OrderEventDataMap } from './order.events';
import eventFixtures from './fixtures/order-events.v1.json';
import submissionFixture from './fixtures/order-submission.v1.json';

// JSON fixtures of the published order events (one per type, every optional field present) and
// of the canonical submission. JSON imports widen string literals (channel, stage, decision), so
// the types are asserted here and the shape is checked at run time below.
const events = eventFixtures as unknown as { [K in keyof OrderEventDataMap]: OrderEventDataMap[K] };
const submission = submissionFixture as unknown as OrderSubmission;

describe('orders contracts (schema version 1)', () => {
  it('has a fixture for every order integration event type', () => {
    expect(Object.keys(events).sort()).toEqual([...ORDER_EVENT_TYPES].sort());
  });

  it.each(ORDER_EVENT_TYPES)('%s round-trips through JSON unchanged and names its order', (type) => {
    const data = events[type];
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    expect(data.orderId).toMatch(/^[0-9A-Z]{26}$/);
  });

  it('money is integer minor units and times are ISO strings', () => {
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
      if (v && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => walk(x, `${path}.${k}`));
      if (/(amount|Total|Fee|Discount|Price|grandTotal)$/i.test(path) && typeof v === 'number') expect(Number.isInteger(v), path).toBe(true);
      if (/At$/.test(path)) expect(new Date(String(v)).toISOString(), path).toBe(v);
    };
    walk(events, 'events');
    walk(submission, 'submission');
  });

  it('enumerated fields hold values of their enumeration', () => {
    expect(CHANNELS).toContain(events.OrderPlaced.channel);
    expect(ORDER_STAGES).toContain(events.OrderCancelled.stageAtCancel);
    expect(ORDER_STAGES).toContain(events.OrderRefundRequested.stageAtRequest);
    expect(['require_approval', 'require_qc', 'free_shipping', 'hold_for_review', 'priority', 'ready_to_ship']).toContain(events.OrderRuleDecided.decision);
    expect(['normal', 'high']).toContain(events.OrderReadyToShip.priority);
  });

  it('the canonical submission round-trips and uses a known channel', () => {
    expect(JSON.parse(JSON.stringify(submission))).toEqual(submission);
    expect(CHANNELS).toContain(submission.channel);
  });
});
