import { fold } from '@flowline/domain';
import { commandMetadata, deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ev, eventsTo, GRAND_TOTAL, ORDER, ORDER_ID, T } from '../../test/support/order.fixtures';
import { CHANGE_PAYMENT_HOLD } from './change-price';
import type { OrderCommand } from './order.commands';
import { orderDecider } from './order.decider';
import type { OrderEvent } from './order.events';
import { computeTotals } from './order.model';
import type { ExistingOrder } from './order.state';

const spec = deciderSpec(orderDecider);
const meta = () => commandMetadata();
const line = ORDER.lines[0];
const cup = { lineId: 'L-ADD', sku: 'TEA-CUP-01', title: '配套茶杯', quantity: 2, unitPrice: 8800, lineDiscount: 0 };

const change = (id: string, d: { added?: (typeof cup)[]; quantities?: { lineId: string; after: number }[] }): OrderCommand => ({
  type: 'ApplyChange',
  data: { orderId: ORDER_ID, approvalId: id, changeRequestId: id, added: d.added ?? [], removed: [], quantities: d.quantities ?? [], reservationId: `chg-${id}` },
  metadata: meta(),
});
const pay = (amount: number): OrderCommand => ({ type: 'ConfirmPayment', data: { orderId: ORDER_ID, amount, currency: 'CNY', paymentRef: 'ALIPAY-CHG-1' }, metadata: meta() });
const refunded = (amount: number): OrderCommand => ({ type: 'RecordRefunded', data: { orderId: ORDER_ID, amount }, metadata: meta() });

function run(given: OrderEvent[], ...commands: OrderCommand[]): OrderEvent[] {
  const events = [...given];
  for (const c of commands) events.push(...orderDecider.decide(c, fold(orderDecider, events)));
  return events;
}
const stateOf = (events: OrderEvent[]) => fold(orderDecider, events) as ExistingOrder;

describe('price difference of an applied change (OrderPaymentDue / OrderPartialRefundRequested)', () => {
  const reserved = eventsTo('stock_reserved');

  it('a change raising the price of a paid order makes the difference due and holds the order until ConfirmPayment of exactly that amount', () => {
    const added = 2 * 8800;
    const after = spec.given(reserved).when(change('C1', { added: [cup] })).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['OrderChanged', 'OrderPaymentDue', 'OrderPutOnHold']);
      expect(events[1].data).toEqual({ orderId: ORDER_ID, approvalId: 'C1', changeRequestId: 'C1', amount: added, priceDifference: added, currency: 'CNY', dueAt: T });
      expect(events[2].data).toMatchObject({ reason: expect.stringContaining(CHANGE_PAYMENT_HOLD) });
    });
    expect(after.status).toBe('stock_reserved');
    if (after.status === 'none') throw new Error('unreachable');
    expect(after.paymentDue).toMatchObject({ amount: added, changeRequestId: 'C1' });
    // Not released to fulfillment while it is due (the hold stops every advancing command).
    const due = run(reserved, change('C1', { added: [cup] }));
    spec.given(due).when({ type: 'ReleaseToFulfillment', data: { orderId: ORDER_ID, priority: 'normal', freeShipping: false, requiresQc: false, decisions: [] }, metadata: meta() }).thenThrows({ code: 'ORDER_ON_HOLD' });
    spec.given(due).when(pay(added - 1)).thenThrows({ code: 'PAYMENT_AMOUNT_MISMATCH', details: { field: 'amount', paid: added - 1, due: added } });
    const paid = spec.given(due).when(pay(added)).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['OrderPaid', 'OrderHoldReleased']);
      expect(events[0].data).toMatchObject({ amount: added, changeRequestId: 'C1', paymentRef: 'ALIPAY-CHG-1' });
    });
    if (paid.status === 'none') throw new Error('unreachable');
    expect(paid.status).toBe('stock_reserved');
    expect(paid.payment?.amount).toBe(GRAND_TOTAL + added);
    expect(paid.paymentDue).toBeNull();
    expect(paid.hold).toBeNull();
    // Paid: nothing more is due.
    spec.given(run(due, pay(added))).when(pay(added)).thenThrows({ code: 'ORDER_BALANCE_NOT_DUE' });
  });

  it('a second payment on a paid plain order says it is paid, not that "no presale balance" is due', () => {
    expect(() => orderDecider.decide(pay(GRAND_TOTAL), fold(orderDecider, eventsTo('paid')))).toThrow(
      expect.objectContaining({ code: 'ORDER_BALANCE_NOT_DUE', message: 'the order is already paid; nothing is due on it' }),
    );
  });

  it('due after release: paid at ready_to_ship or packed, the stage stays', () => {
    const ready = run(eventsTo('ready_to_ship'), change('C1', { added: [cup] }));
    const after = spec.given(ready).when(pay(17600)).thenEvents(() => undefined);
    expect(after.status).toBe('ready_to_ship');
    const packed = [...ready, ev.packed()];
    expect(spec.given(packed).when(pay(17600)).thenEvents(() => undefined).status).toBe('packed');
  });

  it('a change lowering the price of a paid order asks for a partial refund; finance confirms it with RecordRefunded and the order goes on', () => {
    const two = { ...line, quantity: line.quantity + 1 };
    // The fixture order has one line; raise it first (paid), then lower it back.
    const raised = run(reserved, change('C1', { quantities: [{ lineId: line.lineId, after: two.quantity }] }), pay(line.unitPrice));
    expect(stateOf(raised).hold).toBeNull();
    const lowered = spec.given(raised).when(change('C2', { quantities: [{ lineId: line.lineId, after: line.quantity }] })).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['OrderChanged', 'OrderPartialRefundRequested']);
      expect(events[1].data).toMatchObject({ approvalId: 'C2', changeRequestId: 'C2', amount: line.unitPrice, priceDifference: -line.unitPrice, currency: 'CNY' });
    });
    if (lowered.status === 'none') throw new Error('unreachable');
    expect(lowered.hold).toBeNull();
    expect(lowered.partialRefund).toMatchObject({ amount: line.unitPrice });
    const events = run(raised, change('C2', { quantities: [{ lineId: line.lineId, after: line.quantity }] }));
    spec.given(events).when(refunded(1)).thenThrows({ code: 'REFUND_AMOUNT_MISMATCH', details: { field: 'amount', owed: line.unitPrice } });
    const done = spec.given(events).when(refunded(line.unitPrice)).then([
      { type: 'OrderPartialRefunded', data: { orderId: ORDER_ID, changeRequestId: 'C2', amount: line.unitPrice, refundedAt: T } },
    ]);
    if (done.status === 'none') throw new Error('unreachable');
    expect(done.status).toBe('stock_reserved');
    expect(done.refund.refundedTotal).toBe(line.unitPrice);
    expect(done.partialRefund).toBeNull();
    spec.given(run(events, refunded(line.unitPrice))).when(refunded(line.unitPrice)).thenThrows({ code: 'REFUND_NOT_REQUESTED' });
  });

  it('a later change first cancels out what an earlier one left open; the hold goes once nothing is due', () => {
    const due = run(reserved, change('C1', { added: [cup] }));
    // -8800 (one cup less) while 17600 is unpaid: 8800 still due, no refund, still held.
    spec.given(due).when({ ...change('C2', {}), data: { ...change('C2', {}).data, quantities: [{ lineId: 'L-ADD', after: 1 }] } } as OrderCommand).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['OrderChanged', 'OrderPaymentDue']);
      expect(events[1].data).toMatchObject({ amount: 8800, priceDifference: -8800 });
    });
    // Removing the cups (-17600) while 17600 is due: nothing due, the hold is released, nothing refunded.
    const gone: OrderCommand = { type: 'ApplyChange', data: { orderId: ORDER_ID, approvalId: 'C3', changeRequestId: 'C3', added: [], removed: ['L-ADD'], quantities: [] }, metadata: meta() };
    const after = spec.given(due).when(gone).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['OrderChanged', 'OrderPaymentDue', 'OrderHoldReleased']);
      expect(events[1].data).toMatchObject({ amount: 0 });
    });
    if (after.status === 'none') throw new Error('unreachable');
    expect(after.paymentDue).toBeNull();
    expect(after.hold).toBeNull();
  });

  it('a hold a person placed stays when the change is paid; nothing is due on an unpaid or cash-on-delivery order', () => {
    const held = run([...reserved, ev.held()], change('C1', { added: [cup] }));
    expect(held.slice(-2).map((e) => e.type)).toEqual(['OrderChanged', 'OrderPaymentDue']);
    spec.given(held).when(pay(17600)).thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['OrderPaid']));
    // Unpaid: the payment will be the new grand total.
    spec.given(eventsTo('placed')).when(change('C1', { added: [cup] })).thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['OrderChanged']));
    // Cash on delivery: the carrier collects the new grand total.
    const cod = { ...ORDER, paymentMethod: 'cod' as const };
    const codPlaced: OrderEvent = { type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...cod, totals: computeTotals(cod) }, placedAt: T, receivedAt: T } };
    spec.given([codPlaced, ev.reserved()]).when(change('C1', { added: [cup] })).thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['OrderChanged']));
  });
});
