import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG } from '../domain/sla';
import { EventBuilder, happyPath, placedData } from '../../test/fixtures/events';
import { projectInMemory } from './in-memory.projection';
import { computeKpis, percentile } from './kpi.projection';
import { stuckOrders } from './stuck-orders.projection';

const config = DEFAULT_SLA_CONFIG;

describe('percentile', () => {
  it('interpolates like PostgreSQL percentile_cont', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([10], 0.9)).toBe(10);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)).toBe(90);
  });
});

describe('computeKpis', () => {
  const b = new EventBuilder('2026-03-02T01:00:00.000Z', 60_000);
  const events = [
    ...happyPath(b, 'o-1', 'taobao'),
    ...happyPath(b, 'o-2', 'jd'),
    b.event('OrderPlaced', placedData('o-3', { channel: 'douyin' }, b.now()), { actor: { kind: 'user', id: 'u1', role: 'customer_service' } }),
    b.event('OrderPaid', { orderId: 'o-3', amount: 1, currency: 'CNY', paidAt: b.now() }),
    b.event('OrderExceptionFlagged', { orderId: 'o-3', code: 'x', reason: 'y' }),
    b.event('OrderPlaced', placedData('o-4', { channel: 'web' }, b.now())),
  ];
  const p = projectInMemory(events, config);
  const orders = [...p.summaries.values()];
  const visits = [...p.visits.values()];

  it('counts rates over the orders placed in the window', () => {
    const k = computeKpis({ orders, visits, from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z', now: '2026-03-02T12:00:00.000Z', config });
    expect(k.orders).toBe(4);
    expect(k.exceptionOrders).toBe(1);
    expect(k.exceptionRate).toBe(0.25);
    expect(k.manualTouchOrders).toBe(1);
    expect(k.manualTouchRate).toBe(0.25);
    expect(k.platformOrders).toBe(3);
    expect(k.autoIngestRate).toBeCloseTo(2 / 3);
    expect(k.byChannelAndStage).toEqual([
      { channel: 'douyin', stage: 'paid', orders: 1 },
      { channel: 'jd', stage: 'shipped', orders: 1 },
      { channel: 'taobao', stage: 'shipped', orders: 1 },
      { channel: 'web', stage: 'placed', orders: 1 },
    ]);
  });

  it('gives p50/p90 cycle time per stage from visits that ended in the window', () => {
    const k = computeKpis({ orders, visits, from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z', now: '2026-03-02T12:00:00.000Z', config });
    // happy path: placed 1 min, paid 2 min (StockReserved in between), stock_reserved 2 min, ready_to_ship 2 min, packed 2 min
    expect(k.cycleTimeByStage.placed).toEqual({ count: 3, p50Ms: 60_000, p90Ms: 60_000 });
    expect(k.cycleTimeByStage.paid).toEqual({ count: 2, p50Ms: 120_000, p90Ms: 120_000 });
    expect(k.cycleTimeByStage.ready_to_ship).toEqual({ count: 2, p50Ms: 120_000, p90Ms: 120_000 });
    expect(k.cycleTimeByStage.shipped).toBeUndefined();
    expect(k.paidToShipped.count).toBe(2);
    expect(k.stageShares).toEqual([
      { stage: 'paid', share: 0.25, averageMs: 120_000 },
      { stage: 'stock_reserved', share: 0.25, averageMs: 120_000 },
      { stage: 'ready_to_ship', share: 0.25, averageMs: 120_000 },
      { stage: 'packed', share: 0.25, averageMs: 120_000 },
    ]);
    expect(k.nonLogisticsShare).toBeNull();
    expect(k).toMatchObject({ cancelledOrders: 0, cancellationRate: 0 });
  });

  it('measures the non-logistics share on delivered orders and the cancellation rate', () => {
    const b2 = new EventBuilder('2026-03-02T01:00:00.000Z', 60_000);
    const evs = [
      ...happyPath(b2, 'd-1'),
      b2.event('OrderDelivered', { orderId: 'd-1', deliveredAt: '2026-03-02T01:39:00.000Z' }),
      b2.event('OrderPlaced', placedData('c-1', {}, b2.now())),
      b2.event('OrderCancelled', { orderId: 'c-1', reason: 'x', stageAtCancel: 'placed' }),
    ];
    const q = projectInMemory(evs, config);
    const k = computeKpis({ orders: [...q.summaries.values()], visits: [...q.visits.values()], from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z', now: '2026-03-02T12:00:00.000Z', config });
    // paid 01:01, shipped 01:09, delivered 01:39: 8 of 38 minutes were ours
    expect(k.nonLogisticsShare).toBeCloseTo(8 / 38);
    expect(k).toMatchObject({ orders: 2, cancelledOrders: 1, cancellationRate: 0.5 });
  });

  it('counts an order stuck past 24 h as an exception order, and lists it as stuck', () => {
    const later = '2026-03-03T12:00:00.000Z';
    const k = computeKpis({ orders, visits, from: '2026-03-02T00:00:00.000Z', to: '2026-03-04T00:00:00.000Z', now: later, config });
    expect(k.exceptionOrders).toBe(2); // o-3 flagged (and stuck in paid), o-4 stuck in placed
    expect(stuckOrders(orders, later).map((s) => s.orderId)).toEqual(['o-3', 'o-4']);
    expect(stuckOrders(orders, '2026-03-02T12:00:00.000Z')).toEqual([]);
  });

  it('has null rates for an empty window', () => {
    const k = computeKpis({ orders, visits, from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T00:00:00.000Z', now: '2026-03-02T12:00:00.000Z', config });
    expect(k).toMatchObject({ orders: 0, exceptionRate: null, manualTouchRate: null, autoIngestRate: null, byChannelAndStage: [] });
  });
});
