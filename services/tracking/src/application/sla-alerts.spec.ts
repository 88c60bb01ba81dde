import { describe, expect, it } from 'vitest';
import { slaAlertsFor, type SlaAlertCandidate } from './sla-alerts';

const order = (over: Partial<SlaAlertCandidate> = {}): SlaAlertCandidate => ({
  orderId: 'o1',
  channelOrderId: '4128735609812345678',
  shopId: 'shop',
  stage: 'paid',
  stageEnteredAt: '2026-12-01T02:00:00.000Z',
  slaColour: 'green',
  stuck: false,
  slaSegment: 'paid_to_ready',
  slaStartedAt: '2026-12-01T02:00:00.000Z',
  slaYellowAt: '2026-12-01T03:36:00.000Z',
  slaDueAt: '2026-12-01T04:00:00.000Z',
  stuckAt: '2026-12-02T02:00:00.000Z',
  ...over,
});

describe('slaAlertsFor', () => {
  it('given a green order, asks for nothing', () => {
    expect(slaAlertsFor(order(), '2026-12-01T03:00:00.000Z')).toEqual([]);
  });

  it('given a yellow order, asks for OrderSlaTurnedYellow keyed by the segment run', () => {
    const [a, ...rest] = slaAlertsFor(order({ slaColour: 'yellow' }), '2026-12-01T03:40:00.000Z');
    expect(rest).toEqual([]);
    expect(a.type).toBe('OrderSlaTurnedYellow');
    expect(a.key).toBe('o1|yellow|paid_to_ready|2026-12-01T02:00:00.000Z');
    expect(a.data).toMatchObject({ orderId: 'o1', segment: 'paid_to_ready', slaDueAt: '2026-12-01T04:00:00.000Z', detectedAt: '2026-12-01T03:40:00.000Z' });
  });

  it('the same transition seen at a later tick has the same key; a new segment run has another', () => {
    const k1 = slaAlertsFor(order({ slaColour: 'red' }), '2026-12-01T04:01:00.000Z')[0].key;
    const k2 = slaAlertsFor(order({ slaColour: 'red' }), '2026-12-01T05:00:00.000Z')[0].key;
    const k3 = slaAlertsFor(order({ slaColour: 'red', slaSegment: 'ready_to_shipped', slaStartedAt: '2026-12-01T06:00:00.000Z' }), '2026-12-02T07:00:00.000Z')[0].key;
    expect(k2).toBe(k1);
    expect(k3).not.toBe(k1);
  });

  it('given a stuck red order, asks for both the red and the stuck alert', () => {
    const alerts = slaAlertsFor(order({ slaColour: 'red', stuck: true }), '2026-12-02T02:00:00.000Z');
    expect(alerts.map((a) => a.type)).toEqual(['OrderSlaTurnedRed', 'OrderStuck']);
    expect(alerts[1].key).toBe('o1|stuck|paid|2026-12-01T02:00:00.000Z');
    expect(alerts[1].data).toMatchObject({ stage: 'paid', stuckAt: '2026-12-02T02:00:00.000Z' });
  });

  it('a colour without a segment (no budget) asks for nothing', () => {
    expect(slaAlertsFor(order({ slaColour: 'red', slaSegment: null }), '2026-12-02T02:00:00.000Z')).toEqual([]);
  });
});
