import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fold } from '@flowline/domain';
import { aCustomer, commandMetadata, lines } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ev, eventsTo, GRAND_TOTAL, ORDER, ORDER_ID, T } from '../../../test/support/order.fixtures';
import type { OrderCommand } from '../order.commands';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import { computeTotals, type CanonicalOrder } from '../order.model';
import type { OrderState } from '../order.state';
import { parseRuleSet } from '../rules/rule-set.parser';
import { awaitingStock, dueReservationTimeouts, orderProcessPolicy, returnedValue, type ProcessEvent, type ProcessStep } from './order-process.policy';

const rules = parseRuleSet(readFileSync(resolve(__dirname, '../../../rules/default.rules.yaml'), 'utf8'));
const state = (events: OrderEvent[]): OrderState => fold(orderDecider, events);
const run = (event: ProcessEvent, events: OrderEvent[]) => orderProcessPolicy(event, { order: state(events), rules });
const types = (steps: ProcessStep[]) => steps.map((s) => `${s.kind}:${s.command.type}`);

function placedWith(patch: Partial<CanonicalOrder>): OrderEvent {
  const order = { ...ORDER, ...patch };
  return { type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...order, totals: computeTotals(order) }, placedAt: T, receivedAt: T } };
}

const orders = <E extends Extract<ProcessEvent, { context: 'orders' }>['type']>(type: E, data: Record<string, unknown> = {}) =>
  ({ context: 'orders', type, data: { orderId: ORDER_ID, ...data } }) as unknown as ProcessEvent;

describe('order process policy: the happy path', () => {
  it('paid -> ask inventory to reserve every line (naming the order\'s shop); compensation: release the stock', () => {
    const steps = run(orders('OrderPaid'), eventsTo('paid'));
    expect(steps).toEqual([
      {
        kind: 'send',
        command: { context: 'inventory', type: 'ReserveStock', data: { orderId: ORDER_ID, channel: 'tmall', shopId: ORDER.shopId, lines: ORDER.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity })) } },
        compensation: { context: 'inventory', type: 'ReleaseStock', data: { orderId: ORDER_ID, reason: 'cancelled' } },
        why: 'paid -> reserve every line',
      },
    ]);
  });

  it('inventory reserved -> RecordStockReserved on the order', () => {
    const steps = run({ context: 'inventory', type: 'StockReserved', data: { orderId: ORDER_ID, reservationId: 'RES-1', allocations: [{ lineId: 'L1', sku: 'TEA-LJ-250', warehouseId: 'W1', quantity: 2 }] } }, eventsTo('paid'));
    expect(steps).toEqual([
      { kind: 'order', command: { type: 'RecordStockReserved', data: { orderId: ORDER_ID, reservationId: 'RES-1', allocations: [{ lineId: 'L1', sku: 'TEA-LJ-250', warehouseId: 'W1', quantity: 2 }] } }, compensation: null, why: 'inventory reserved the lines' },
    ]);
  });

  it('reserved -> the rules audit the order -> ReleaseToFulfillment carrying the rule decisions', () => {
    const [step] = run(orders('OrderStockReserved'), eventsTo('stock_reserved'));
    expect(step).toMatchObject({
      kind: 'order',
      compensation: 'Cancel',
      command: { type: 'ReleaseToFulfillment', data: { orderId: ORDER_ID, priority: 'normal', freeShipping: false, requiresQc: false, decisions: [{ ruleId: 'ready-when-paid-and-reserved', ruleSetVersion: '2025.12.1', decision: 'ready_to_ship' }] } },
    });
  });

  it('every rule decision the policy passes on is recorded on the order naming the rule id and rule-set version', () => {
    const given = eventsTo('stock_reserved');
    const [step] = run(orders('OrderStockReserved'), given);
    const command = { ...step.command, metadata: commandMetadata() } as OrderCommand;
    const events = orderDecider.decide(command, state(given));
    expect(events[0]).toEqual({
      type: 'OrderRuleDecided',
      data: { orderId: ORDER_ID, ruleId: 'ready-when-paid-and-reserved', ruleSetVersion: '2025.12.1', ruleSetHash: rules.hash, decision: 'ready_to_ship', decidedAt: command.metadata.now },
    });
  });

  it('ready to ship -> StartFulfillment with the allocated lines; compensation: stop fulfillment', () => {
    const steps = run(orders('OrderReadyToShip'), eventsTo('ready_to_ship'));
    expect(steps).toEqual([
      {
        kind: 'send',
        command: { context: 'fulfillment', type: 'StartFulfillment', data: { orderId: ORDER_ID, lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, warehouseId: 'WH-HZ-01' }], priority: 'normal', requiresQc: false, destination: { province: '浙江省', city: '杭州市' }, channel: 'tmall', channelOrderId: ORDER.channelOrderId, grandTotal: 26000, shopId: expect.any(String), buyerKey: expect.stringMatching(/^[0-9a-f]{32}$/), addressKey: expect.stringMatching(/^[0-9a-f]{32}$/) } },
        compensation: { context: 'fulfillment', type: 'StopFulfillment', data: { orderId: ORDER_ID, reason: 'order cancelled' } },
        why: 'ready to ship -> ask fulfillment to pick and pack',
      },
    ]);
  });

  it('fulfillment packed / shipped / delivered -> RecordPacked / RecordShipped / RecordDelivered', () => {
    expect(types(run({ context: 'fulfillment', type: 'ShipmentPacked', data: { orderId: ORDER_ID, shipmentId: 'S', waybillNo: 'W' } }, eventsTo('ready_to_ship')))).toEqual(['order:RecordPacked']);
    expect(types(run({ context: 'fulfillment', type: 'ShipmentShipped', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'T' } }, eventsTo('packed')))).toEqual(['order:RecordShipped']);
    expect(types(run({ context: 'fulfillment', type: 'ShipmentDelivered', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', deliveredAt: T } }, eventsTo('shipped')))).toEqual(['order:RecordDelivered']);
  });

  it('a carrier problem on a shipped order -> exception with the carrier words', () => {
    const steps = run(
      { context: 'fulfillment', type: 'ShipmentCarrierException', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'T', description: '收件人地址不详', at: T } },
      eventsTo('shipped'),
    );
    expect(steps).toMatchObject([{ kind: 'order', command: { type: 'FlagException', data: { code: 'CARRIER_EXCEPTION', reason: 'SF: 收件人地址不详' } } }]);
  });

  it('an order in two parcels is shipped when the last parcel is, delivered when the last is delivered', () => {
    const shipped = (allShipped: boolean) => run({ context: 'fulfillment', type: 'ShipmentShipped', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'T', allShipped } }, eventsTo('packed'));
    expect(types(shipped(false))).toEqual([]);
    expect(types(shipped(true))).toEqual(['order:RecordShipped']);
    const delivered = (allDelivered: boolean) => run({ context: 'fulfillment', type: 'ShipmentDelivered', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', deliveredAt: T, allDelivered } }, eventsTo('shipped'));
    expect(types(delivered(false))).toEqual([]);
    expect(types(delivered(true))).toEqual(['order:RecordDelivered']);
  });

  it('cancelled while packed and shipped anyway -> exception SHIPPED_AFTER_CANCEL and inventory takes the units off stock; a cancel before packing too', () => {
    const shipped = { context: 'fulfillment' as const, type: 'ShipmentShipped' as const, data: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'SF123' } };
    const steps = run(shipped, [...eventsTo('packed'), ev.cancelled('packed')]);
    expect(types(steps)).toEqual(['order:FlagException', 'send:CommitStock']);
    expect(steps[0]).toMatchObject({ command: { data: { code: 'SHIPPED_AFTER_CANCEL', details: { stageAtCancel: 'packed', shipmentId: 'SHP-1', trackingNumber: 'SF123' } } } });
    // The order decider accepts the flag on a cancelled order (a person resolves it).
    const cancelledState = state([...eventsTo('packed'), ev.cancelled('packed')]);
    const flagged = orderDecider.decide({ ...(steps[0].command as OrderCommand), metadata: commandMetadata() } as OrderCommand, cancelledState);
    expect(flagged.map((e) => e.type)).toEqual(['OrderExceptionFlagged']);
    // Cancelled after payment (no parcel yet) and shipped: the same.
    expect(types(run(shipped, [...eventsTo('paid'), ev.cancelled('paid')]))).toEqual(['order:FlagException', 'send:CommitStock']);
  });

  it('shipped -> inventory commits the reserved units', () => {
    expect(types(run(orders('OrderShipped'), eventsTo('shipped')))).toEqual(['send:CommitStock']);
  });
});

describe('order process policy: StartFulfillment carries the carrier and weight inputs (#12)', () => {
  const designated = (): OrderEvent[] => {
    const [placed, ...rest] = eventsTo('ready_to_ship');
    const order = (placed as Extract<OrderEvent, { type: 'OrderPlaced' }>).data.order;
    return [placedWith({ designatedCarrier: 'SF', lines: order.lines.map((l) => ({ ...l, unitWeightGrams: 260 })) }), ...rest];
  };

  it("the channel's designated carrier and the line weight (unit weight x allocated units) reach fulfillment", () => {
    const [step] = run(orders('OrderReadyToShip'), designated());
    expect(step.command).toMatchObject({ type: 'StartFulfillment', data: { designatedCarrier: 'SF', lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, warehouseId: 'WH-HZ-01', weightGrams: 520 }] } });
  });

  it('an order without them sends neither (fulfillment falls back to its channel default and SKU table)', () => {
    const [step] = run(orders('OrderReadyToShip'), eventsTo('ready_to_ship'));
    expect(step.command.data).not.toHaveProperty('designatedCarrier');
    expect((step.command.data as { lines: object[] }).lines[0]).not.toHaveProperty('weightGrams');
  });

  it('the StartFulfillment after an approved change carries destination, channel, amount, designated carrier, weights and merge keys like the first one', () => {
    const given = designated();
    const [first] = run(orders('OrderReadyToShip'), given);
    const steps = run(orders('OrderChanged', { changeRequestId: 'CR-1', changes: { added: [], removed: [], quantities: [] }, shippingAddress: { province: '浙江省' } }), given);
    expect(types(steps)).toEqual(['send:StopFulfillment', 'send:StartFulfillment']);
    const again = steps[1].command.data as Record<string, unknown>;
    expect(again).toEqual(first.command.data);
    expect(again).toMatchObject({ destination: { province: '浙江省', city: '杭州市' }, channel: 'tmall', grandTotal: GRAND_TOTAL, designatedCarrier: 'SF', shopId: ORDER.shopId });
    expect(again.buyerKey).toMatch(/^[0-9a-f]{32}$/);
    expect(again.addressKey).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('order process policy: approval', () => {
  const custom = placedWith({ lines: lines({ category: 'custom' }) });

  it('a custom line -> RequireApproval on the order naming the rule', () => {
    const [step] = run(orders('OrderStockReserved'), [custom, ev.paid(), ev.reserved()]);
    expect(step).toMatchObject({ kind: 'order', command: { type: 'RequireApproval', data: { chain: 'custom-order', decision: { ruleId: 'approval-large-or-custom' } } } });
  });

  it('approval required -> RequestApproval to the approval service; compensation: withdraw it', () => {
    const steps = run(orders('OrderApprovalRequired'), [custom, ev.paid(), ev.reserved(), ev.approvalRequired()]);
    expect(steps).toEqual([
      {
        kind: 'send',
        command: { context: 'approval', type: 'RequestApproval', data: { orderId: ORDER_ID, chain: 'custom-order', ruleId: 'approval-large-or-custom', ruleSetVersion: '2025.12.1', grandTotal: GRAND_TOTAL, currency: 'CNY' } },
        compensation: { context: 'approval', type: 'WithdrawApproval', data: { orderId: ORDER_ID, reason: 'order cancelled' } },
        why: 'a rule requires approval -> ask the approval service',
      },
    ]);
  });

  it('granted -> RecordApproval; the granted order is then released', () => {
    const given = [custom, ev.paid(), ev.reserved(), ev.approvalRequired()];
    expect(types(run({ context: 'approval', type: 'ApprovalGranted', data: { approvalId: 'A1', orderId: ORDER_ID, chain: 'custom-order' } }, given))).toEqual(['order:RecordApproval']);
    expect(types(run(orders('OrderApproved'), [...given, ev.approved()]))).toEqual(['order:ReleaseToFulfillment']);
  });

  it('rejected -> RecordRejection (which cancels); the cancel then releases stock but withdraws nothing', () => {
    const given = [custom, ev.paid(), ev.reserved(), ev.approvalRequired()];
    const steps = run({ context: 'approval', type: 'ApprovalRejected', data: { approvalId: 'A1', orderId: ORDER_ID, chain: 'custom-order', step: 'gm', by: 'gm-wang', reason: 'no' } }, given);
    expect(steps).toMatchObject([{ command: { type: 'RecordRejection', data: { approvalId: 'A1', reason: 'no', rejectedBy: 'gm-wang' } } }]);
    const rejected: OrderEvent[] = [...given, { type: 'OrderApprovalRejected', data: { orderId: ORDER_ID, chain: 'custom-order', approvalId: 'A1', reason: 'no', rejectedAt: T } }, ev.cancelled('awaiting_approval')];
    expect(types(run(orders('OrderCancelled', { reason: 'approval rejected: no', stageAtCancel: 'awaiting_approval' }), rejected))).toEqual(['send:ReleaseStock']);
  });
});

describe('order process policy: shortage, holds, exceptions', () => {
  it('inventory shortage -> RecordStockShortage; the recorded shortage -> FlagException naming the missing lines', () => {
    const missing = [{ sku: 'TEA-LJ-250', requested: 2, available: 0 }];
    expect(types(run({ context: 'inventory', type: 'StockShortage', data: { orderId: ORDER_ID, missing } }, eventsTo('paid')))).toEqual(['order:RecordStockShortage']);
    const [step] = run(orders('OrderStockShortage'), [...eventsTo('paid'), ev.shortage()]);
    expect(step).toMatchObject({ kind: 'order', compensation: 'ResolveException', command: { type: 'FlagException', data: { code: 'STOCK_SHORTAGE', details: { missing: [{ sku: 'TEA-LJ-250', requested: 2, available: 0 }] } } } });
  });

  it('when the shortage exception is resolved, inventory is asked again', () => {
    expect(types(run(orders('OrderExceptionResolved'), [...eventsTo('paid'), ev.shortage(), ev.exception('STOCK_SHORTAGE'), ev.exceptionResolved()]))).toEqual(['send:ReserveStock']);
  });

  it('a blocked customer is held on arrival by rule', () => {
    const [step] = run(orders('OrderPlaced'), [placedWith({ customer: aCustomer({ tags: ['blocked'] }) })]);
    expect(step).toMatchObject({ kind: 'order', compensation: 'ReleaseHold', command: { type: 'PlaceHold', data: { reason: 'customer is tagged blocked', decision: { ruleId: 'hold-blocked-customer', ruleSetVersion: '2025.12.1' } } } });
    expect(run(orders('OrderPlaced'), eventsTo('placed'))).toEqual([]);
  });

  it('holds on arrival also when the payment was recorded before OrderPlaced was handled', () => {
    const blocked = placedWith({ customer: aCustomer({ tags: ['blocked'] }) });
    expect(types(run(orders('OrderPlaced'), [blocked, ev.paid()]))).toEqual(['order:PlaceHold']);
    expect(run(orders('OrderPlaced'), [blocked, ev.paid(), ev.reserved()])).toEqual([]);
  });

  it('a held order that gets paid is not reserved until the hold is released', () => {
    expect(run(orders('OrderPaid'), [ev.placed(), ev.held(), ev.paid()])).toEqual([]);
    expect(types(run(orders('OrderHoldReleased'), [ev.placed(), ev.held(), ev.paid(), ev.holdReleased()]))).toEqual(['send:ReserveStock']);
  });

  it('a reserved order on hold is audited when the hold is released', () => {
    expect(run(orders('OrderStockReserved'), [...eventsTo('paid'), ev.held(), ev.reserved()])).toEqual([]);
    expect(types(run(orders('OrderHoldReleased'), [...eventsTo('paid'), ev.held(), ev.reserved(), ev.holdReleased()]))).toEqual(['order:ReleaseToFulfillment']);
  });

  it('a hold after release reaches the warehouse (HoldFulfillment); its release resumes it (ResumeFulfillment)', () => {
    const [hold] = run(orders('OrderPutOnHold', { reason: 'check address' }), [...eventsTo('ready_to_ship'), ev.held()]);
    expect(hold).toMatchObject({ kind: 'send', command: { context: 'fulfillment', type: 'HoldFulfillment', data: { orderId: ORDER_ID, reason: 'on hold: check address' } } });
    expect(types(run(orders('OrderPutOnHold'), [...eventsTo('packed'), ev.held()]))).toEqual(['send:HoldFulfillment']);
    const [resume] = run(orders('OrderHoldReleased', { reason: 'address confirmed' }), [...eventsTo('ready_to_ship'), ev.held(), ev.holdReleased()]);
    expect(resume).toMatchObject({ kind: 'send', command: { type: 'ResumeFulfillment', data: { orderId: ORDER_ID, reason: 'hold released: address confirmed' } } });
  });

  it('an exception flagged after release holds the warehouse too; the order resumes only when hold and flag are both cleared', () => {
    const [flag] = run(orders('OrderExceptionFlagged', { code: 'MANUAL', reason: 'something is wrong' }), [...eventsTo('ready_to_ship'), ev.exception('MANUAL')]);
    expect(flag).toMatchObject({ command: { type: 'HoldFulfillment', data: { reason: 'exception MANUAL: something is wrong' } } });
    // Held and flagged: releasing the hold alone does not resume.
    expect(run(orders('OrderHoldReleased'), [...eventsTo('ready_to_ship'), ev.held(), ev.exception('MANUAL'), ev.holdReleased()])).toEqual([]);
    expect(types(run(orders('OrderExceptionResolved'), [...eventsTo('ready_to_ship'), ev.held(), ev.exception('MANUAL'), ev.holdReleased(), ev.exceptionResolved()]))).toEqual(['send:ResumeFulfillment']);
  });

  it('a hold before release or after shipment sends nothing to the warehouse (it was never told, or the parcel left)', () => {
    expect(run(orders('OrderPutOnHold'), [...eventsTo('stock_reserved'), ev.held()])).toEqual([]);
    expect(run(orders('OrderPutOnHold'), [...eventsTo('shipped'), ev.held()])).toEqual([]);
    expect(run(orders('OrderExceptionFlagged'), [...eventsTo('shipped'), ev.exception('CARRIER_EXCEPTION')])).toEqual([]);
  });

  it('an order the rules cannot release (partial reservation) goes to exception AUDIT_BLOCKED', () => {
    const [step] = run(orders('OrderStockReserved'), [...eventsTo('paid'), ev.reserved(false)]);
    expect(step).toMatchObject({ command: { type: 'FlagException', data: { code: 'AUDIT_BLOCKED' } } });
  });
});

describe('order process policy: cancel and refund before shipment compensate', () => {
  const cancelled = (stage: Parameters<typeof ev.cancelled>[0], before: OrderEvent[]) => run(orders('OrderCancelled', { reason: 'buyer', stageAtCancel: stage }), [...before, ev.cancelled(stage)]);

  it('cancel of an unpaid order needs nothing undone', () => {
    expect(cancelled('placed', eventsTo('placed'))).toEqual([]);
  });

  it('cancel when paid releases any reservation (one may be in flight)', () => {
    expect(types(cancelled('paid', eventsTo('paid')))).toEqual(['send:ReleaseStock']);
  });

  it('cancel while awaiting approval releases the stock and withdraws the approval', () => {
    expect(types(cancelled('awaiting_approval', eventsTo('awaiting_approval')))).toEqual(['send:ReleaseStock', 'send:WithdrawApproval']);
  });

  it('cancel in ready_to_ship releases the stock and stops fulfillment', () => {
    expect(types(cancelled('ready_to_ship', eventsTo('ready_to_ship')))).toEqual(['send:ReleaseStock', 'send:StopFulfillment']);
  });

  it('cancel once packed stops fulfillment and keeps the units reserved: the parcel may still leave (intercept rejected)', () => {
    expect(types(cancelled('packed', eventsTo('packed')))).toEqual(['send:StopFulfillment']);
  });

  it('a refund requested before shipment compensates like a cancel', () => {
    const steps = run(orders('OrderRefundRequested', { amount: GRAND_TOTAL, reason: 'x', stageAtRequest: 'ready_to_ship' }), [...eventsTo('ready_to_ship'), ev.refundRequested('ready_to_ship')]);
    expect(steps.map((s) => s.command)).toEqual([
      { context: 'inventory', type: 'ReleaseStock', data: { orderId: ORDER_ID, reason: 'refunded' } },
      { context: 'fulfillment', type: 'StopFulfillment', data: { orderId: ORDER_ID, reason: 'x' } },
    ]);
    const packed = run(orders('OrderRefundRequested', { amount: GRAND_TOTAL, reason: 'x', stageAtRequest: 'packed' }), [...eventsTo('packed'), ev.refundRequested('packed')]);
    expect(packed.map((s) => s.command)).toEqual([{ context: 'fulfillment', type: 'StopFulfillment', data: { orderId: ORDER_ID, reason: 'x' } }]);
  });

  it('the packed parcel pulled (intercept confirmed) after a cancel or refund -> the units it kept reserved are released', () => {
    const stopped = (wasPacked: boolean) => ({ context: 'fulfillment' as const, type: 'FulfillmentStopped' as const, data: { orderId: ORDER_ID, reason: 'x', wasPacked, shipmentId: 'SHP-1' } });
    expect(run(stopped(true), [...eventsTo('packed'), ev.cancelled('packed')]).map((s) => s.command)).toEqual([{ context: 'inventory', type: 'ReleaseStock', data: { orderId: ORDER_ID, reason: 'cancelled' } }]);
    expect(run(stopped(true), [...eventsTo('packed'), ev.refundRequested('packed')]).map((s) => s.command)).toEqual([{ context: 'inventory', type: 'ReleaseStock', data: { orderId: ORDER_ID, reason: 'refunded' } }]);
    // A parcel not packed was stopped at once (released with the cancel); a packed order re-opened for a change keeps its stock.
    expect(run(stopped(false), [...eventsTo('packed'), ev.cancelled('packed')])).toEqual([]);
    expect(run(stopped(true), eventsTo('packed'))).toEqual([]);
  });

  it('a refund after shipment is left to the returns flow', () => {
    expect(run(orders('OrderRefundRequested', { amount: 100, reason: 'x', stageAtRequest: 'delivered' }), [...eventsTo('delivered'), ev.refundRequested('delivered', 100)])).toEqual([]);
  });

  it('a reservation that arrives after the cancel is given back', () => {
    const steps = run({ context: 'inventory', type: 'StockReserved', data: { orderId: ORDER_ID, reservationId: 'R', allocations: [] } }, eventsTo('cancelled'));
    expect(types(steps)).toEqual(['send:ReleaseStock']);
  });

  it('a reservation that arrives after a refund request is recorded and given back', () => {
    const steps = run({ context: 'inventory', type: 'StockReserved', data: { orderId: ORDER_ID, reservationId: 'R', allocations: [] } }, [...eventsTo('paid'), ev.refundRequested('paid')]);
    expect(types(steps)).toEqual(['order:RecordStockReserved', 'send:ReleaseStock']);
  });

  it('a parcel shipped after a refund was requested before shipment raises an exception', () => {
    expect(types(run(orders('OrderShipped'), [...eventsTo('packed'), ev.refundRequested('packed'), ev.shipped()]))).toEqual(['send:CommitStock', 'order:FlagException']);
  });
});

describe('order process policy: repeated events are harmless', () => {
  it.each([
    ['OrderPaid after the order was reserved', orders('OrderPaid'), eventsTo('stock_reserved')],
    ['StockReserved again', { context: 'inventory', type: 'StockReserved', data: { orderId: ORDER_ID, reservationId: 'RES-1', allocations: [] } } as ProcessEvent, eventsTo('stock_reserved')],
    ['OrderStockReserved after release', orders('OrderStockReserved'), eventsTo('ready_to_ship')],
    ['OrderReadyToShip after packing', orders('OrderReadyToShip'), eventsTo('packed')],
    ['ShipmentPacked again', { context: 'fulfillment', type: 'ShipmentPacked', data: { orderId: ORDER_ID, shipmentId: 'SHP-1', waybillNo: 'W' } } as ProcessEvent, eventsTo('packed')],
    ['ApprovalGranted again', { context: 'approval', type: 'ApprovalGranted', data: { approvalId: 'A', orderId: ORDER_ID, chain: 'custom-order' } } as ProcessEvent, [...eventsTo('awaiting_approval'), ev.approved()]],
    ['any event for an order that does not exist', orders('OrderPaid'), []],
  ] as const)('%s -> no step', (_n, event, given) => {
    expect(run(event, [...given])).toEqual([]);
  });

  it('every step that starts work elsewhere names its compensation', () => {
    const starters = [
      ...run(orders('OrderPaid'), eventsTo('paid')),
      ...run(orders('OrderApprovalRequired'), eventsTo('awaiting_approval')),
      ...run(orders('OrderReadyToShip'), eventsTo('ready_to_ship')),
    ];
    expect(starters.map((s) => [s.command.type, s.kind === 'send' ? s.compensation?.type : null])).toEqual([
      ['ReserveStock', 'ReleaseStock'],
      ['RequestApproval', 'WithdrawApproval'],
      ['StartFulfillment', 'StopFulfillment'],
    ]);
  });
});

describe('reservation timeout', () => {
  const TIMEOUT = 15 * 60_000;
  const paidAt = '2025-11-25T08:00:00.000Z';
  const candidate = { orderId: ORDER_ID, stage: 'paid' as const, onHold: false, inException: false, movableSince: paidAt };

  it('flags an order paid but not reserved within the timeout', () => {
    expect(dueReservationTimeouts([candidate], '2025-11-25T08:15:00.000Z', TIMEOUT)).toEqual([
      { type: 'FlagException', data: { orderId: ORDER_ID, code: 'RESERVATION_TIMEOUT', reason: 'paid but not reserved within 900 s', details: { waitingSince: paidAt, timeoutMs: TIMEOUT } } },
    ]);
  });

  it('leaves it alone before the timeout', () => {
    expect(dueReservationTimeouts([candidate], '2025-11-25T08:14:59.999Z', TIMEOUT)).toEqual([]);
  });

  it('does not time out an order that is on hold or already in exception', () => {
    expect(dueReservationTimeouts([{ ...candidate, onHold: true }, { ...candidate, inException: true }], '2025-11-26T00:00:00.000Z', TIMEOUT)).toEqual([]);
  });

  it('only paid, unreserved orders are waiting for stock; the clock restarts when a hold is released', () => {
    expect(awaitingStock(state(eventsTo('stock_reserved')))).toBeNull();
    expect(awaitingStock(state(eventsTo('placed')))).toBeNull();
    expect(awaitingStock(state(eventsTo('paid')))).toEqual({ ...candidate, movableSince: T });
    const released: OrderEvent = { type: 'OrderHoldReleased', data: { orderId: ORDER_ID, reason: 'ok', releasedAt: '2025-11-25T09:00:00.000Z' } };
    expect(awaitingStock(state([...eventsTo('paid'), ev.held(), released]))?.movableSince).toBe('2025-11-25T09:00:00.000Z');
  });
});

describe('order process policy: approved change requests', () => {
  const line = ORDER.lines[0];
  const changeApproved = (approvalId = 'CHG-1'): ProcessEvent => ({
    context: 'approval',
    type: 'ChangeApproved',
    data: {
      approvalId,
      orderId: ORDER_ID,
      changeRequestId: approvalId,
      diff: {
        lines: { added: [{ lineId: 'L-ADD', sku: 'TEA-CUP-01', title: '配套茶杯', quantity: 2, unitPrice: 8800, lineDiscount: 0 }], removed: [], changed: [{ lineId: line.lineId, sku: line.sku, before: line.quantity, after: line.quantity + 1 }] },
        totals: { before: ORDER.totals, after: ORDER.totals },
        priceDifference: 0,
      },
      reservationId: `chg-${approvalId}`,
      allocations: [{ lineId: 'L-ADD', sku: 'TEA-CUP-01', warehouseId: 'WH-HZ-01', quantity: 2 }],
      approvedAt: T,
    },
  });

  it('before packing: ApplyChange with the added lines, quantities and the change reservation', () => {
    const steps = run(changeApproved(), eventsTo('ready_to_ship'));
    expect(types(steps)).toEqual(['order:ApplyChange']);
    expect(steps[0].command.data).toMatchObject({ changeRequestId: 'CHG-1', removed: [], quantities: [{ lineId: line.lineId, after: line.quantity + 1 }], reservationId: 'chg-CHG-1' });
  });

  it('once packed: RefuseChange naming the shipment; the same change again does nothing', () => {
    const steps = run(changeApproved(), eventsTo('packed'));
    expect(types(steps)).toEqual(['order:RefuseChange']);
    expect(steps[0].command.data).toMatchObject({ reason: 'the order is packed (shipment SHP-1): the approved change is not applied' });
    const applied = fold(orderDecider, eventsTo('ready_to_ship'));
    const events = orderDecider.decide({ ...(run(changeApproved(), eventsTo('ready_to_ship'))[0].command as OrderCommand), metadata: commandMetadata() } as OrderCommand, applied);
    // The fixture order is paid: the added units' price is due and the order held until it is paid (change-price.spec.ts).
    expect(events.map((e) => e.type)).toEqual(['OrderChanged', 'OrderPaymentDue', 'OrderPutOnHold']);
    expect(run(changeApproved(), [...eventsTo('ready_to_ship'), ...events])).toEqual([]);
  });

  it('the decider recomputes the totals from the lines: one OrderChanged with the price difference', () => {
    const [changed] = orderDecider.decide({ ...(run(changeApproved(), eventsTo('ready_to_ship'))[0].command as OrderCommand), metadata: commandMetadata() } as OrderCommand, state(eventsTo('ready_to_ship')));
    expect(changed).toMatchObject({ type: 'OrderChanged', data: { priceDifference: 2 * 8800 + line.unitPrice, changes: { added: ['L-ADD'], removed: [], quantities: [{ lineId: line.lineId, before: line.quantity, after: line.quantity + 1 }] } } });
    const after = state([...eventsTo('ready_to_ship'), changed]);
    expect(after.status === 'ready_to_ship' && after.order.totals.grandTotal).toBe(GRAND_TOTAL + 2 * 8800 + line.unitPrice);
    expect(after.status === 'ready_to_ship' && after.reservation?.allocations.map((a) => a.lineId)).toContain('L-ADD');
  });

  it("the change's own reservation is committed when the order ships and released when it is cancelled", () => {
    const [changed] = orderDecider.decide({ ...(run(changeApproved(), eventsTo('ready_to_ship'))[0].command as OrderCommand), metadata: commandMetadata() } as OrderCommand, state(eventsTo('ready_to_ship')));
    const shipped = run(orders('OrderShipped', { shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'SF1' }), [...eventsTo('ready_to_ship'), changed, ev.packed(), ev.shipped()]);
    expect(shipped.filter((st) => st.command.type === 'CommitStock').map((st) => st.command.data.orderId)).toEqual([ORDER_ID, 'chg-CHG-1']);
    const cancelled = run(orders('OrderCancelled', { reason: '不要了', stageAtCancel: 'ready_to_ship' }), [...eventsTo('ready_to_ship'), changed, ev.cancelled('ready_to_ship')]);
    expect(cancelled.filter((st) => st.command.type === 'ReleaseStock').map((st) => st.command.data.orderId)).toEqual([ORDER_ID, 'chg-CHG-1']);
  });
});

describe('order process policy: a return (RMA) received refunds the returned units', () => {
  const received = (lines: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[], rmaId = 'RMA-1'): ProcessEvent => ({
    context: 'fulfillment',
    type: 'ReturnReceived',
    data: { orderId: ORDER_ID, shipmentId: 'SHP-1', rmaId, warehouseId: 'WH-HZ-01', lines, at: T },
  });
  const first = ORDER.lines[0];

  it('delivered -> RequestRefund of the returned units (price less their share of the line discount), whatever their condition', () => {
    const steps = run(received([{ sku: first.sku, quantity: 1, condition: 'damaged' }]), eventsTo('delivered'));
    const value = first.unitPrice - Math.floor(first.lineDiscount / first.quantity);
    expect(steps).toEqual([
      { kind: 'order', command: { type: 'RequestRefund', data: { orderId: ORDER_ID, amount: value, reason: `return RMA-1 received (${first.sku} x1)` } }, compensation: null, why: 'returned units received -> their value is refunded' },
    ]);
    // The order decider accepts it on a delivered order (a partial refund after shipment).
    const decided = orderDecider.decide({ ...(steps[0].command as OrderCommand), metadata: commandMetadata() } as OrderCommand, state(eventsTo('delivered')));
    expect(decided.map((e) => e.type)).toEqual(['OrderRefundRequested']);
  });

  it('nothing while a refund is open, before shipment, or for SKUs the order does not hold', () => {
    expect(run(received([{ sku: first.sku, quantity: 1, condition: 'resellable' }]), [...eventsTo('delivered'), ev.refundRequested('delivered', 100)])).toEqual([]);
    expect(run(received([{ sku: first.sku, quantity: 1, condition: 'resellable' }]), eventsTo('packed'))).toEqual([]);
    expect(run(received([{ sku: 'NOT-IN-ORDER', quantity: 1, condition: 'resellable' }]), eventsTo('delivered'))).toEqual([]);
  });

  it('returnedValue: per SKU over the lines in order, never more units than ordered, discount share rounded down', () => {
    const lines = [
      { sku: 'A', quantity: 3, unitPrice: 1000, lineDiscount: 100 },
      { sku: 'A', quantity: 1, unitPrice: 900, lineDiscount: 0 },
      { sku: 'B', quantity: 2, unitPrice: 500, lineDiscount: 0 },
    ];
    expect(returnedValue(lines, [{ sku: 'A', quantity: 1 }])).toBe(1000 - 33);
    expect(returnedValue(lines, [{ sku: 'A', quantity: 4 }])).toBe(3000 - 100 + 900);
    expect(returnedValue(lines, [{ sku: 'A', quantity: 9 }, { sku: 'B', quantity: 1 }])).toBe(3000 - 100 + 900 + 500);
    expect(returnedValue(lines, [])).toBe(0);
  });
});
