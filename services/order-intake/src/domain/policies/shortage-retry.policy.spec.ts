import { fold } from '@flowline/domain';
import { describe, expect, it } from 'vitest';
import { ev, eventsTo, ORDER, ORDER_ID, T } from '../../../test/support/order.fixtures';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import { computeTotals, type CanonicalOrder } from '../order.model';
import { backoffAfter, planShortageRetry, shortageCandidate, skusToCheck, type ShortageCandidate, type SkuStockNow } from './shortage-retry.policy';

const state = (events: OrderEvent[]) => fold(orderDecider, events);
const SKU = ORDER.lines[0]!.sku;
/** Paid, refused by inventory, flagged STOCK_SHORTAGE (as the process manager does). */
const waiting = (): OrderEvent[] => [...eventsTo('paid'), ev.shortage(), ev.exception('STOCK_SHORTAGE')];
const LATER = '2025-11-25T09:00:00.000Z';

describe('which orders wait for stock (缺货)', () => {
  it('a paid order refused by inventory and flagged STOCK_SHORTAGE waits for the SKUs it was short of, and needs every line', () => {
    expect(shortageCandidate(state(waiting()))).toEqual({ orderId: ORDER_ID, reportedAt: T, refusals: 1, shortSkus: [SKU], need: { [SKU]: 2 } });
    // Refused again after a retry: the count goes on until a reservation.
    expect(shortageCandidate(state([...waiting(), ev.exceptionResolved(), ev.shortage(), ev.exception('STOCK_SHORTAGE')]))).toMatchObject({ refusals: 2 });
  });

  it('adds up the units of lines of one SKU, and keeps only short SKUs the order still has', () => {
    const order: CanonicalOrder = { ...ORDER, lines: [ORDER.lines[0]!, { ...ORDER.lines[0]!, lineId: 'L2', quantity: 3 }, { ...ORDER.lines[0]!, lineId: 'L3', sku: 'CUP-01', quantity: 1 }] };
    const placed: OrderEvent = { type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...order, totals: computeTotals(order) }, placedAt: T, receivedAt: T } };
    const events: OrderEvent[] = [
      placed,
      ...eventsTo('paid').slice(1),
      { type: 'OrderStockShortage', data: { orderId: ORDER_ID, missing: [{ sku: 'GONE-9', requested: 1, available: 0 }, { sku: 'CUP-01', requested: 1, available: 0 }], reportedAt: T } },
      ev.exception('STOCK_SHORTAGE'),
    ];
    expect(shortageCandidate(state(events))).toMatchObject({ shortSkus: ['CUP-01'], need: { [SKU]: 5, 'CUP-01': 1 } });
  });

  it('not: another exception, a hold, a refund requested, a reservation, an exception resolved meanwhile, or no shortage', () => {
    expect(shortageCandidate(state([...eventsTo('paid'), ev.shortage(), ev.exception('ADDRESS_CHECK')]))).toBeNull();
    expect(shortageCandidate(state([...waiting(), ev.held()]))).toBeNull();
    expect(shortageCandidate(state([...waiting(), { type: 'OrderRefundRequested', data: { orderId: ORDER_ID, amount: 100, reason: '不要了', stageAtRequest: 'paid', requestedAt: T } } as OrderEvent]))).toBeNull();
    expect(shortageCandidate(state([...waiting(), ev.exceptionResolved()]))).toBeNull();
    expect(shortageCandidate(state([...eventsTo('paid'), ev.exception('STOCK_SHORTAGE')]))).toBeNull();
    expect(shortageCandidate(state(eventsTo('stock_reserved')))).toBeNull();
    expect(shortageCandidate(state([]))).toBeNull();
  });
});

describe('which waiting orders to try again (到货重新预占)', () => {
  const NOW = '2025-11-25T10:00:00.000Z';
  const timer = { now: NOW };
  const c = (orderId: string, need: Record<string, number>, shortSkus = Object.keys(need), reportedAt = T, refusals = 1): ShortageCandidate => ({ orderId, reportedAt, refusals, shortSkus, need });
  const stock = (entries: Record<string, [number, string | null, boolean?]>) =>
    new Map<string, SkuStockNow>(Object.entries(entries).map(([sku, [available, changedAt, backorder]]) => [sku, { available, changedAt, ...(backorder ? { backorder } : {}) }]));

  it('in the order given, each order the stock still covers after the ones before it; an order too large is passed over, not blocking smaller ones', () => {
    const plan = planShortageRetry([c('o-old', { VASE: 2 }), c('o-big', { VASE: 3 }), c('o-small', { VASE: 1 })], stock({ VASE: [4, LATER] }), timer);
    expect(plan).toEqual({ retry: ['o-old', 'o-small'], waiting: [{ orderId: 'o-big', reason: 'not_enough_stock' }] });
  });

  it('counts every line of the order, not only the short one; a backorder SKU always covers its lines', () => {
    expect(planShortageRetry([c('o-1', { VASE: 1, CUP: 2 }, ['VASE'])], stock({ VASE: [5, LATER], CUP: [1, '2025-01-01T00:00:00.000Z'] }), timer)).toEqual({ retry: [], waiting: [{ orderId: 'o-1', reason: 'not_enough_stock' }] });
    expect(planShortageRetry([c('o-1', { VASE: 1, PRE: 2 }, ['VASE'])], stock({ VASE: [5, LATER], PRE: [0, null, true] }), timer).retry).toEqual(['o-1']);
  });

  it('the timer waits while the short stock has not moved since the refusal (a change up to a minute before the report counts as after); a person asking does not', () => {
    const reportedAt = '2025-11-25T08:00:00.000Z';
    const one = [c('o-1', { VASE: 1 }, ['VASE'], reportedAt)];
    expect(planShortageRetry(one, stock({ VASE: [3, '2025-11-25T07:00:00.000Z'] }), timer).waiting).toEqual([{ orderId: 'o-1', reason: 'stock_unchanged' }]);
    expect(planShortageRetry(one, stock({ VASE: [3, null] }), timer).waiting).toEqual([{ orderId: 'o-1', reason: 'stock_unchanged' }]);
    expect(planShortageRetry(one, stock({ VASE: [3, '2025-11-25T07:59:05.000Z'] }), timer).retry).toEqual(['o-1']);
    expect(planShortageRetry(one, stock({ VASE: [3, '2025-11-25T07:58:59.000Z'] }), timer).waiting).toEqual([{ orderId: 'o-1', reason: 'stock_unchanged' }]);
    // A short SKU switched to backorder since: inventory no longer finds it short.
    expect(planShortageRetry(one, stock({ VASE: [0, '2025-11-25T07:00:00.000Z', true] }), timer).retry).toEqual(['o-1']);
    expect(planShortageRetry(one, stock({ VASE: [3, '2025-11-25T07:00:00.000Z'] }), { now: NOW, byPerson: true }).retry).toEqual(['o-1']);
  });

  it('the timer backs off an order inventory refused again and again: 1, 2, 4 ... minutes after the last refusal, at most an hour', () => {
    expect([1, 2, 3, 4, 9, 20].map(backoffAfter)).toEqual([0, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
    const refusedThrice = (reportedAt: string) => [c('o-1', { VASE: 1 }, ['VASE'], reportedAt, 3)];
    const moved = stock({ VASE: [3, NOW] });
    expect(planShortageRetry(refusedThrice('2025-11-25T09:58:30.000Z'), moved, timer).waiting).toEqual([{ orderId: 'o-1', reason: 'retry_later' }]);
    expect(planShortageRetry(refusedThrice('2025-11-25T09:58:00.000Z'), moved, timer).retry).toEqual(['o-1']);
    expect(planShortageRetry(refusedThrice('2025-11-25T09:59:59.000Z'), moved, { now: NOW, byPerson: true }).retry).toEqual(['o-1']);
  });

  it('a SKU inventory does not know keeps the order waiting', () => {
    expect(planShortageRetry([c('o-1', { VASE: 1, NEW: 1 }, ['VASE'])], stock({ VASE: [3, LATER] }), timer)).toEqual({ retry: [], waiting: [{ orderId: 'o-1', reason: 'unknown_sku' }] });
  });

  it('asks for the figures of every SKU of the candidates, once each', () => {
    expect(skusToCheck([c('a', { VASE: 1, CUP: 1 }), c('b', { CUP: 2 })])).toEqual(['CUP', 'VASE']);
  });
});
