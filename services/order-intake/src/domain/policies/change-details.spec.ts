import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrderChangeDiff } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import { commandMetadata } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { eventsTo, ORDER, ORDER_ID } from '../../../test/support/order.fixtures';
import { routeRecorded } from '../../application/order-relay.routes';
import type { OrderCommand } from '../order.commands';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import type { ExistingOrder, OrderState } from '../order.state';
import { parseRuleSet } from '../rules/rule-set.parser';
import { orderProcessPolicy, type ProcessEvent, type ProcessStep } from './order-process.policy';

/**
 * A change request carrying a new address / carrier service / invoice (订单变更): approval sends it
 * on the private ApplyOrderChange (orders.commands.v1), the order applies it as ONE OrderChanged
 * with the clear address, publishes it masked, and fulfillment packs to the new address.
 */
const rules = parseRuleSet(readFileSync(resolve(__dirname, '../../../rules/default.rules.yaml'), 'utf8'));
const state = (events: OrderEvent[]): OrderState => fold(orderDecider, events);
const run = (event: ProcessEvent, events: OrderEvent[]) => orderProcessPolicy(event, { order: state(events), rules });
const types = (steps: ProcessStep[]) => steps.map((s) => `${s.kind}:${s.command.type}`);

const newAddress = { province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路', detail: '88号', recipient: '韩梅梅', phone: '13900001111' };
/** The order's address after the change: the old postal code goes with the old street. */
const { postalCode: _oldPostalCode, ...keptFromOrder } = ORDER.shippingAddress;
const moved = { ...keptFromOrder, ...newAddress };
const noLines: OrderChangeDiff = { lines: { added: [], removed: [], changed: [] }, totals: { before: ORDER.totals, after: ORDER.totals }, priceDifference: 0 };

const applyCommand = (approvalId = 'CHG-A', extra: Record<string, unknown> = {}): ProcessEvent => ({
  context: 'approval',
  type: 'ApplyOrderChange',
  data: { orderId: ORDER_ID, approvalId, changeRequestId: approvalId, diff: noLines, shippingAddress: newAddress, shippingMethod: 'express', invoice: { type: 'company', title: '杭州茶韵贸易有限公司', taxId: '91330100MA2XXXXX0X' }, ...extra },
});

/** The ApplyChange a policy step asks for, decided on `events`. */
function applied(events: OrderEvent[], step: ProcessStep): OrderEvent[] {
  if (step.kind !== 'order') throw new Error('not an order step');
  return orderDecider.decide({ ...step.command, metadata: commandMetadata() } as OrderCommand, state(events));
}

describe('a change with a new address, carrier service or invoice', () => {
  it('comes on the private command: ApplyChange with the clear values; the public ChangeApproved of such a change is left alone', () => {
    const steps = run(applyCommand(), eventsTo('stock_reserved'));
    expect(types(steps)).toEqual(['order:ApplyChange']);
    expect(steps[0].command.data).toMatchObject({ changeRequestId: 'CHG-A', shippingAddress: newAddress, shippingMethod: 'express', invoice: { type: 'company' } });
    const publicEvent: ProcessEvent = { context: 'approval', type: 'ChangeApproved', data: { orderId: ORDER_ID, approvalId: 'CHG-A', changeRequestId: 'CHG-A', diff: noLines, appliedBy: 'command', approvedAt: '2026-12-05T00:00:00.000Z' } };
    expect(run(publicEvent, eventsTo('stock_reserved'))).toEqual([]);
    // Once packed (no override), refused like any change.
    expect(types(run(applyCommand(), eventsTo('packed')))).toEqual(['order:RefuseChange']);
  });

  it('is applied as one OrderChanged: the new address (street, detail, postal code its own; recipient and phone kept when not given), carrier service and invoice recorded; published masked', () => {
    const before = eventsTo('stock_reserved');
    const [changed, ...rest] = applied(before, run(applyCommand(), before)[0]);
    expect(rest).toEqual([]);
    expect(changed).toMatchObject({ type: 'OrderChanged', data: { shippingAddress: moved, shippingMethod: 'express', invoice: { title: '杭州茶韵贸易有限公司' } } });
    const after = state([...before, changed]) as ExistingOrder;
    expect(after.order.shippingAddress).toEqual(moved);
    expect(after.shippingMethod).toBe('express');
    const published = routeRecorded({ streamId: `order-${ORDER_ID}`, type: changed.type, data: changed.data });
    expect(published?.data).toMatchObject({ shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山******', recipientMasked: '韩**', phoneMasked: '139****1111' }, shippingMethod: 'express', invoice: { type: 'company', titleMasked: '杭州茶韵贸易有限公司' } });
    expect(JSON.stringify(published?.data)).not.toMatch(/中山西路|13900001111|韩梅梅/);
    // A patch without recipient and phone keeps the order's.
    const [movedOnly] = applied(before, run(applyCommand('CHG-B', { shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路' } }), before)[0]);
    expect(movedOnly.type === 'OrderChanged' && movedOnly.data.shippingAddress).toEqual({ ...keptFromOrder, province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路', detail: '' });
    // A blank street is refused naming the field.
    const blank = run(applyCommand('CHG-C', { shippingAddress: { ...newAddress, street: ' ' } }), before)[0];
    expect(() => applied(before, blank)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'shippingAddress.street' }) }));
  });

  it('released already: fulfillment is stopped and started again with the new destination before packing', () => {
    const before = eventsTo('ready_to_ship');
    const events = [...before, ...applied(before, run(applyCommand(), before)[0])];
    const changed = events[events.length - 1];
    const steps = run({ context: 'orders', type: 'OrderChanged', data: changed.data } as ProcessEvent, events);
    expect(types(steps)).toEqual(['send:StopFulfillment', 'send:StartFulfillment']);
    expect(steps[1].command.data).toMatchObject({ orderId: ORDER_ID, destination: { province: '浙江省', city: '宁波市' } });
    // An invoice-only change does not bother the warehouse.
    const invoiceOnly = [...before, ...applied(before, run(applyCommand('CHG-I', { shippingAddress: undefined, shippingMethod: undefined }), before)[0])];
    expect(run({ context: 'orders', type: 'OrderChanged', data: invoiceOnly[invoiceOnly.length - 1].data } as ProcessEvent, invoiceOnly)).toEqual([]);
  });

  it('released already with a price difference due: fulfillment stays stopped until the difference is paid', () => {
    const before = eventsTo('ready_to_ship');
    const cup = { lineId: 'L-ADD', sku: 'TEA-CUP-01', title: '配套茶杯', quantity: 1, unitPrice: 8800, lineDiscount: 0 };
    const add: OrderCommand = { type: 'ApplyChange', data: { orderId: ORDER_ID, approvalId: 'CHG-P', changeRequestId: 'CHG-P', added: [cup], removed: [], quantities: [], reservationId: 'chg-CHG-P', allocations: [{ lineId: 'L-ADD', sku: 'TEA-CUP-01', warehouseId: 'WH-HZ-01', quantity: 1 }] }, metadata: commandMetadata() };
    const due = [...before, ...orderDecider.decide(add, state(before))];
    const changed = due.find((e) => e.type === 'OrderChanged');
    expect(types(run({ context: 'orders', type: 'OrderChanged', data: changed?.data } as ProcessEvent, due))).toEqual(['send:StopFulfillment']);
    const pay: OrderCommand = { type: 'ConfirmPayment', data: { orderId: ORDER_ID, amount: 8800, currency: 'CNY' }, metadata: commandMetadata() };
    const paidEvents = orderDecider.decide(pay, state(due));
    const paid = [...due, ...paidEvents];
    const steps = run({ context: 'orders', type: 'OrderPaid', data: paidEvents[0].data } as ProcessEvent, paid);
    expect(types(steps)).toEqual(['send:StartFulfillment']);
    expect((steps[0].command.data as { lines: { lineId: string }[] }).lines.map((l) => l.lineId)).toContain('L-ADD');
  });
});
