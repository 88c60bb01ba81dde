import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrderSubmission } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import { commandMetadata, deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ev, ORDER, ORDER_ID, SUBMISSION, T } from '../../../test/support/order.fixtures';
import type { OrderCommand } from '../order.commands';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import { routeRecorded } from '../../application/order-relay.routes';
import { computeTotals } from '../order.model';
import type { OrderState } from '../order.state';
import { parseRuleSet } from '../rules/rule-set.parser';
import { duePresaleDeadlines, orderProcessPolicy, presaleReleaseSteps, presaleWaiting, type ProcessEvent, type ProcessStep } from './order-process.policy';

/** Presale (预售) and cash-on-delivery (货到付款) orders: decider (given/when/then), policy and the presale timer. */
const spec = deciderSpec(orderDecider);
const rules = parseRuleSet(readFileSync(resolve(__dirname, '../../../rules/default.rules.yaml'), 'utf8'));
const state = (events: OrderEvent[]): OrderState => fold(orderDecider, events);
const types = (steps: ProcessStep[]) => steps.map((s) => `${s.kind}:${s.command.type}`);

const DEPOSIT = 5000;
const DUE_BY = '2025-11-28T16:00:00.000Z';
const SHIP_FROM = '2025-12-01T00:00:00.000Z';
const PRESALE = { depositAmount: DEPOSIT, balanceDueBy: DUE_BY, shipNotBefore: SHIP_FROM };
const PRESALE_ORDER = { ...ORDER, presale: PRESALE };
const TOTAL = PRESALE_ORDER.totals.grandTotal;
const BALANCE = TOTAL - DEPOSIT;
const COD_ORDER = { ...ORDER, paymentMethod: 'cod' as const };

const placed = (order: typeof ORDER): OrderEvent => ({ type: 'OrderPlaced', data: { orderId: ORDER_ID, order, placedAt: T, receivedAt: T } });
const depositPaid = (): OrderEvent => ({ type: 'OrderPaid', data: { orderId: ORDER_ID, amount: DEPOSIT, currency: 'CNY', presalePart: 'deposit', paidAt: T } });
const balancePaid = (): OrderEvent => ({ type: 'OrderPaid', data: { orderId: ORDER_ID, amount: BALANCE, currency: 'CNY', presalePart: 'balance', paidAt: T } });
const pay = (amount: number, now = T): OrderCommand => ({ type: 'ConfirmPayment', data: { orderId: ORDER_ID, amount, currency: 'CNY' }, metadata: commandMetadata({ now }) });
const release = (now: string): OrderCommand => ({
  type: 'ReleaseToFulfillment',
  data: { orderId: ORDER_ID, priority: 'normal', freeShipping: false, requiresQc: false, decisions: [] },
  metadata: commandMetadata({ now }),
});
const place = (order: OrderSubmission): OrderCommand => ({ type: 'PlaceOrder', data: { orderId: ORDER_ID, order }, metadata: commandMetadata() });
const orders = (type: string, data: Record<string, unknown> = {}) => ({ context: 'orders', type, data: { orderId: ORDER_ID, ...data } }) as unknown as ProcessEvent;
const run = (event: ProcessEvent, events: OrderEvent[], now?: string) => orderProcessPolicy(event, { order: state(events), rules, ...(now ? { now } : {}) });

describe('presale: PlaceOrder terms', () => {
  it('keeps the presale terms on the placed order', () => {
    const after = spec.given([]).when(place({ ...SUBMISSION, presale: PRESALE })).thenEvents(([e]) => expect(e.type).toBe('OrderPlaced'));
    expect(after.status === 'placed' && after.order.presale).toEqual(PRESALE);
  });

  it.each([
    ['deposit 0', { ...PRESALE, depositAmount: 0 }, 'presale.depositAmount'],
    ['deposit = grand total', { ...PRESALE, depositAmount: TOTAL }, 'presale.depositAmount'],
    ['deposit in yuan', { ...PRESALE, depositAmount: 50.5 }, 'presale.depositAmount'],
    ['balanceDueBy not a time', { ...PRESALE, balanceDueBy: 'soon' }, 'presale.balanceDueBy'],
    ['shipNotBefore not a time', { ...PRESALE, shipNotBefore: '' }, 'presale.shipNotBefore'],
  ])('refuses %s naming the field', (_n, presale, field) => {
    spec.given([]).when(place({ ...SUBMISSION, presale })).thenThrows({ code: 'ORDER_INVALID', kind: 'invalid', details: { field } });
  });

  it('refuses a presale order paid cash on delivery, and an unknown payment method', () => {
    spec.given([]).when(place({ ...SUBMISSION, presale: PRESALE, paymentMethod: 'cod' })).thenThrows({ code: 'ORDER_INVALID', details: { field: 'presale' } });
    spec.given([]).when(place({ ...SUBMISSION, paymentMethod: 'cheque' as never })).thenThrows({ code: 'ORDER_INVALID', details: { field: 'paymentMethod' } });
  });
});

describe('presale: deposit (定金) then balance (尾款)', () => {
  it('the deposit makes the order paid with the deposit as the amount paid', () => {
    const after = spec.given([placed(PRESALE_ORDER)]).when(pay(DEPOSIT)).then([depositPaid()]);
    expect(after.status).toBe('paid');
    expect(after.status !== 'none' && after.payment?.amount).toBe(DEPOSIT);
  });

  it('any other first amount is refused with the deposit due', () => {
    spec.given([placed(PRESALE_ORDER)]).when(pay(DEPOSIT + 1)).thenThrows({ code: 'PAYMENT_AMOUNT_MISMATCH', details: { field: 'amount', paid: DEPOSIT + 1, due: DEPOSIT } });
  });

  it('the whole amount at once (a late import) records the deposit and the balance', () => {
    const after = spec.given([placed(PRESALE_ORDER)]).when(pay(TOTAL)).then([depositPaid(), balancePaid()]);
    expect(after.status).toBe('paid');
    expect(after.status !== 'none' && after.payment).toMatchObject({ amount: TOTAL, balancePaidAt: T });
  });

  it('the balance is recorded where the order stands (stock reserved): stage stays, amount paid grows', () => {
    const after = spec.given([placed(PRESALE_ORDER), depositPaid(), ev.reserved()]).when(pay(BALANCE)).then([balancePaid()]);
    expect(after.status).toBe('stock_reserved');
    expect(after.status !== 'none' && after.payment).toMatchObject({ amount: TOTAL, balancePaidAt: T });
  });

  it('a wrong balance is refused naming what is due; a second balance is not due', () => {
    spec.given([placed(PRESALE_ORDER), depositPaid(), ev.reserved()]).when(pay(BALANCE - 1)).thenThrows({ code: 'PAYMENT_AMOUNT_MISMATCH', details: { due: BALANCE } });
    spec.given([placed(PRESALE_ORDER), depositPaid(), ev.reserved(), balancePaid()]).when(pay(BALANCE)).thenThrows({ code: 'ORDER_BALANCE_NOT_DUE', kind: 'conflict' });
  });

  it('an ordinary paid order takes no second payment', () => {
    spec.given([ev.placed(), ev.paid(), ev.reserved()]).when(pay(1)).thenThrows({ code: 'ORDER_BALANCE_NOT_DUE' });
  });

  it('ReleaseToFulfillment is refused before the balance, and before the ship date; allowed after both', () => {
    const reserved = [placed(PRESALE_ORDER), depositPaid(), ev.reserved()];
    spec.given(reserved).when(release(SHIP_FROM)).thenThrows({ code: 'ORDER_PRESALE_NOT_SETTLED', kind: 'conflict', details: { balanceDue: true, shipNotBefore: SHIP_FROM } });
    spec.given([...reserved, balancePaid()]).when(release('2025-11-30T23:59:59.000Z')).thenThrows({ code: 'ORDER_PRESALE_NOT_SETTLED', details: { balanceDue: false } });
    const after = spec.given([...reserved, balancePaid()]).when(release(SHIP_FROM)).thenEvents((e) => expect(e.map((x) => x.type)).toEqual(['OrderReadyToShip']));
    expect(after.status).toBe('ready_to_ship');
  });

  it('cancelled after the deposit: the deposit is owed back (finance records it)', () => {
    const after = spec
      .given([placed(PRESALE_ORDER), depositPaid(), ev.reserved()])
      .when({ type: 'Cancel', data: { orderId: ORDER_ID, reason: 'presale balance unpaid' }, metadata: commandMetadata() })
      .thenEvents(() => undefined);
    spec.given([placed(PRESALE_ORDER), depositPaid(), ev.reserved(), ev.cancelled('stock_reserved')]).when({ type: 'RecordRefunded', data: { orderId: ORDER_ID, amount: DEPOSIT }, metadata: commandMetadata() }).thenEvents(() => undefined);
    expect(after.status).toBe('cancelled');
  });
});

describe('presale: process policy', () => {
  const reserved = [placed(PRESALE_ORDER), depositPaid(), ev.reserved()];

  it('the deposit reserves stock (like any payment)', () => {
    expect(types(run(orders('OrderPaid', { presalePart: 'deposit' }), [placed(PRESALE_ORDER), depositPaid()]))).toEqual(['send:ReserveStock']);
  });

  it('reserved with the balance unpaid: held at stock_reserved (no release)', () => {
    expect(run(orders('OrderStockReserved'), reserved, SHIP_FROM)).toEqual([]);
  });

  it('balance paid before the ship date: still held; at the ship date the timer audit releases it', () => {
    expect(run(orders('OrderPaid', { presalePart: 'balance' }), [...reserved, balancePaid()], '2025-11-29T00:00:00.000Z')).toEqual([]);
    expect(types(presaleReleaseSteps(state([...reserved, balancePaid()]), rules, SHIP_FROM))).toEqual(['order:ReleaseToFulfillment']);
  });

  it('balance paid after the ship date: released at once', () => {
    expect(types(run(orders('OrderPaid', { presalePart: 'balance' }), [...reserved, balancePaid()], '2025-12-02T00:00:00.000Z'))).toEqual(['order:ReleaseToFulfillment']);
  });

  it('without a clock the policy never releases a presale order', () => {
    expect(run(orders('OrderPaid', { presalePart: 'balance' }), [...reserved, balancePaid()])).toEqual([]);
  });

  it('cancelled for an unpaid balance: the reserved stock is released', () => {
    const steps = run(orders('OrderCancelled', { stageAtCancel: 'stock_reserved', reason: 'presale balance unpaid' }), [...reserved, ev.cancelled('stock_reserved')]);
    expect(steps).toContainEqual(expect.objectContaining({ kind: 'send', command: { context: 'inventory', type: 'ReleaseStock', data: { orderId: ORDER_ID, reason: 'cancelled' } } }));
  });
});

describe('presale timer', () => {
  const reserved = [placed(PRESALE_ORDER), depositPaid(), ev.reserved()];

  it('balance unpaid after balanceDueBy -> Cancel; not at or before it', () => {
    const w = presaleWaiting(state(reserved))!;
    expect(w).toEqual({ orderId: ORDER_ID, stage: 'stock_reserved', balanceDue: true, balanceDueBy: DUE_BY, shipNotBefore: SHIP_FROM });
    expect(duePresaleDeadlines(w, DUE_BY)).toBeNull();
    expect(duePresaleDeadlines(w, '2025-11-28T16:00:00.001Z')).toEqual({
      kind: 'cancel',
      command: { type: 'Cancel', data: { orderId: ORDER_ID, reason: `presale balance unpaid by ${DUE_BY}` } },
    });
  });

  it('no deposit either by balanceDueBy -> Cancel', () => {
    expect(duePresaleDeadlines(presaleWaiting(state([placed(PRESALE_ORDER)]))!, '2025-11-29T00:00:00.000Z')?.kind).toBe('cancel');
  });

  it('balance paid: audit at the ship date, nothing before; released and ordinary orders are not watched', () => {
    const w = presaleWaiting(state([...reserved, balancePaid()]))!;
    expect(duePresaleDeadlines(w, '2025-11-30T00:00:00.000Z')).toBeNull();
    expect(duePresaleDeadlines(w, SHIP_FROM)).toEqual({ kind: 'audit' });
    expect(presaleWaiting(state([...reserved, balancePaid(), ev.readyToShip()]))).toBeNull();
    expect(presaleWaiting(state([ev.placed(), ev.paid()]))).toBeNull();
  });
});

describe('cash on delivery (货到付款)', () => {
  const cod = [placed(COD_ORDER)];
  const reserve: OrderCommand = {
    type: 'RecordStockReserved',
    data: { orderId: ORDER_ID, reservationId: 'RES-1', allocations: ORDER.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-HZ-01', quantity: l.quantity })) },
    metadata: commandMetadata(),
  };

  it('placed -> stock reserved without payment; an online order is not', () => {
    expect(spec.given(cod).when(reserve).thenEvents(() => undefined).status).toBe('stock_reserved');
    spec.given([ev.placed()]).when(reserve).thenThrows({ code: 'ORDER_NOT_COD', kind: 'conflict' });
  });

  it('policy: placed COD -> ReserveStock at once; StockReserved recorded at placed; audit releases it unpaid', () => {
    expect(run(orders('OrderPlaced'), cod).map((s) => s.why)).toEqual(['cash on delivery -> reserve every line unpaid']);
    expect(types(run(orders('OrderPlaced'), [ev.placed()]))).toEqual([]);
    const reserved = { context: 'inventory', type: 'StockReserved', data: { orderId: ORDER_ID, reservationId: 'RES-1', allocations: [] } } as unknown as ProcessEvent;
    expect(types(run(reserved, cod))).toEqual(['order:RecordStockReserved']);
    expect(types(run(orders('OrderStockReserved'), [...cod, ev.reserved()]))).toEqual(['order:ReleaseToFulfillment']);
  });

  it('delivered -> the collected grand total is recorded as the payment (policy), stage stays delivered', () => {
    const delivered = [...cod, ev.reserved(), ev.readyToShip(), ev.packed(), ev.shipped(), ev.delivered()];
    const steps = run(orders('OrderDelivered'), delivered);
    expect(steps).toEqual([
      {
        kind: 'order',
        command: { type: 'ConfirmPayment', data: { orderId: ORDER_ID, amount: ORDER.totals.grandTotal, currency: 'CNY', paymentRef: 'cod:SHP-1' } },
        compensation: null,
        why: 'COD parcel delivered -> the collected amount is recorded as the payment',
      },
    ]);
    const after = spec.given(delivered).when(pay(ORDER.totals.grandTotal)).thenEvents((e) => expect(e.map((x) => x.type)).toEqual(['OrderPaid']));
    expect(after.status).toBe('delivered');
    expect(after.status !== 'none' && after.payment?.amount).toBe(ORDER.totals.grandTotal);
    spec.given([...delivered, { type: 'OrderPaid', data: { orderId: ORDER_ID, amount: ORDER.totals.grandTotal, currency: 'CNY', paidAt: T } }]).when(pay(1)).thenThrows({ code: 'ORDER_NOT_COD' });
    expect(run(orders('OrderDelivered'), [ev.placed(), ev.paid(), ev.reserved(), ev.readyToShip(), ev.packed(), ev.shipped(), ev.delivered()])).toEqual([]);
  });

  it('a refused COD parcel cancelled before shipment releases the stock, with no refund owed', () => {
    const atReady = [...cod, ev.reserved(), ev.readyToShip()];
    const after = spec.given(atReady).when({ type: 'Cancel', data: { orderId: ORDER_ID, reason: 'buyer refused the parcel' }, metadata: commandMetadata() }).thenEvents(() => undefined);
    expect(after.status).toBe('cancelled');
    expect(types(run(orders('OrderCancelled', { stageAtCancel: 'ready_to_ship', reason: 'refused' }), [...atReady, ev.cancelled('ready_to_ship')]))).toEqual([
      'send:ReleaseStock',
      'send:StopFulfillment',
    ]);
    spec.given([...atReady, ev.cancelled('ready_to_ship')]).when({ type: 'RecordRefunded', data: { orderId: ORDER_ID, amount: 0 }, metadata: commandMetadata() }).thenThrows({ code: 'REFUND_NOT_REQUESTED' });
  });
});

it('presale order totals: the fixture balance is the rest of the grand total', () => {
  expect(computeTotals(PRESALE_ORDER).grandTotal).toBe(DEPOSIT + BALANCE);
});

it('OrderPlaced handled after the payment (online order): no ReserveStock (OrderPaid asks for it, once)', () => {
  expect(types(run(orders('OrderPlaced'), [ev.placed(), ev.paid()]))).toEqual([]);
});

it('published: OrderPlaced carries paymentMethod / presale terms, OrderPaid its presalePart', () => {
  const route = (e: OrderEvent) => routeRecorded({ streamId: `order-${ORDER_ID}`, type: e.type, data: e.data })?.data;
  expect(route(placed(PRESALE_ORDER))).toMatchObject({ presale: PRESALE });
  expect(route(placed(COD_ORDER))).toMatchObject({ paymentMethod: 'cod' });
  expect(route(placed(ORDER))).not.toHaveProperty('presale');
  expect(route(balancePaid())).toEqual({ orderId: ORDER_ID, amount: BALANCE, currency: 'CNY', presalePart: 'balance', paidAt: T });
});
