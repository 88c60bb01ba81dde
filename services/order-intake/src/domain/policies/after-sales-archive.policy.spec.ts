import { fold } from '@flowline/domain';
import { describe, expect, it } from 'vitest';
import { ev, eventsTo, ORDER_ID, T } from '../../../test/support/order.fixtures';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import type { OrderState } from '../order.state';
import { afterSalesCutoff, DEFAULT_AFTER_SALES_DAYS, deliveredOrder, dueArchives, type DeliveredOrder } from './after-sales-archive.policy';

const state = (events: OrderEvent[]): OrderState => fold(orderDecider, events);
const DAY = 24 * 60 * 60 * 1000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const delivered = (patch: Partial<DeliveredOrder> = {}): DeliveredOrder => ({
  orderId: ORDER_ID,
  stage: 'delivered',
  movableSince: T,
  onHold: false,
  inException: false,
  refundPending: false,
  ...patch,
});

describe('after-sales archive: which delivered orders are due', () => {
  it('the default window is 15 days', () => {
    expect(DEFAULT_AFTER_SALES_DAYS).toBe(15);
  });

  it('archives a delivered order once the whole window has passed since delivery (the boundary itself included)', () => {
    expect(dueArchives([delivered()], plus(T, 15 * DAY), 15)).toEqual([{ type: 'Archive', data: { orderId: ORDER_ID } }]);
    expect(dueArchives([delivered()], plus(T, 40 * DAY), 15)).toHaveLength(1);
  });

  it('keeps an order inside its window (one millisecond before the end too)', () => {
    expect(dueArchives([delivered()], plus(T, 14 * DAY), 15)).toEqual([]);
    expect(dueArchives([delivered()], plus(T, 15 * DAY - 1), 15)).toEqual([]);
  });

  it('reads the window it is given (ORDER_AFTER_SALES_DAYS)', () => {
    expect(dueArchives([delivered()], plus(T, 7 * DAY), 7)).toHaveLength(1);
    expect(dueArchives([delivered()], plus(T, 7 * DAY), 30)).toEqual([]);
  });

  it('never archives an order on hold, in exception or with a refund request open', () => {
    const now = plus(T, 60 * DAY);
    expect(dueArchives([delivered({ onHold: true }), delivered({ inException: true }), delivered({ refundPending: true })], now, 15)).toEqual([]);
  });

  it('never archives an order that is not delivered', () => {
    expect(dueArchives([delivered({ stage: 'shipped' }), delivered({ stage: 'archived' })], plus(T, 60 * DAY), 15)).toEqual([]);
  });

  it('returns one Archive per due order, in the order given', () => {
    const due = dueArchives(
      [delivered({ orderId: 'A' }), delivered({ orderId: 'B', movableSince: plus(T, 10 * DAY) }), delivered({ orderId: 'C', movableSince: plus(T, -3 * DAY) })],
      plus(T, 16 * DAY),
      15,
    );
    expect(due.map((c) => c.data.orderId)).toEqual(['A', 'C']);
  });

  it('the cutoff is now minus the window', () => {
    expect(afterSalesCutoff('2025-12-10T08:00:00.000Z', 15)).toBe('2025-11-25T08:00:00.000Z');
  });
});

describe('after-sales archive: what it reads of an order', () => {
  it('a delivered order: movable since its delivery, no flags', () => {
    expect(deliveredOrder(state(eventsTo('delivered')))).toEqual(delivered());
  });

  it('not delivered (shipped, archived, none) -> null', () => {
    expect(deliveredOrder(state(eventsTo('shipped')))).toBeNull();
    expect(deliveredOrder(state(eventsTo('archived')))).toBeNull();
    expect(deliveredOrder(state([]))).toBeNull();
  });

  it('a hold, an exception and an open refund request are seen', () => {
    expect(deliveredOrder(state([...eventsTo('delivered'), ev.held()]))).toMatchObject({ onHold: true });
    expect(deliveredOrder(state([...eventsTo('delivered'), ev.exception('COMPLAINT')]))).toMatchObject({ inException: true });
    expect(deliveredOrder(state([...eventsTo('delivered'), ev.refundRequested('delivered', 100)]))).toMatchObject({ refundPending: true });
  });

  it('the window restarts when an after-sales hold is released', () => {
    const released: OrderEvent = { type: 'OrderHoldReleased', data: { orderId: ORDER_ID, reason: 'ok', releasedAt: plus(T, 10 * DAY) } };
    const view = deliveredOrder(state([...eventsTo('delivered'), ev.held(), released]));
    expect(view).toMatchObject({ onHold: false, movableSince: plus(T, 10 * DAY) });
    expect(dueArchives([view!], plus(T, 16 * DAY), 15)).toEqual([]);
    expect(dueArchives([view!], plus(T, 25 * DAY), 15)).toHaveLength(1);
  });

  it('the Archive command it yields is accepted by the order decider', () => {
    const s = state(eventsTo('delivered'));
    const [command] = dueArchives([deliveredOrder(s)!], plus(T, 15 * DAY), 15);
    const events = orderDecider.decide({ ...command, metadata: { commandId: 'c', correlationId: 'c', causationId: null, now: plus(T, 15 * DAY) } } as never, s);
    expect(events).toEqual([{ type: 'OrderArchived', data: { orderId: ORDER_ID, archivedAt: plus(T, 15 * DAY) } }]);
  });
});
