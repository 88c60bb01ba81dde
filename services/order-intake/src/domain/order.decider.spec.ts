import { ORDER_STAGES, type OrderStage, type OrderSubmission } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import { deciderSpec, lines } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { DECISION, ev, eventsTo, GRAND_TOTAL, ORDER, ORDER_ID, SUBMISSION, T, validCommand } from '../../test/support/order.fixtures';
import { ORDER_COMMAND_TYPES, type OrderCommand, type OrderCommandType } from './order.commands';
import { orderDecider } from './order.decider';
import type { OrderEvent, OrderEventType } from './order.events';
import { findTransition, ORDER_TRANSITIONS, type StageOrNone, type Transition } from './order-transitions';
import { computeTotals } from './order.model';
import type { OrderState } from './order.state';

const spec = deciderSpec(orderDecider);
const ALL_STAGES: StageOrNone[] = ['none', ...ORDER_STAGES];

/** The extra events a row's guards need before its command is legal. */
function setupFor(row: Transition): OrderEvent[] {
  const extra: OrderEvent[] = [];
  const afterShipment = row.from === 'shipped' || row.from === 'delivered';
  for (const g of row.guards) {
    if (g === 'approvalGranted') extra.push(ev.approved());
    if (g === 'refundOwed' && row.from !== 'cancelled') extra.push(ev.refundRequested(row.from as OrderStage, afterShipment ? 1000 : GRAND_TOTAL));
    if (g === 'holdPresent') extra.push(ev.held());
    if (g === 'exceptionPresent') extra.push(ev.exception());
    if (g === 'changePaymentDue')
      extra.push({ type: 'OrderPaymentDue', data: { orderId: ORDER_ID, approvalId: 'APR-C1', changeRequestId: 'APR-C1', amount: GRAND_TOTAL, priceDifference: GRAND_TOTAL, currency: 'CNY', dueAt: T } });
  }
  return paymentTermsFor(row, [...eventsTo(row.from), ...extra]);
}

/**
 * Rows guarded by presale / COD terms run on such an order: a presale order whose balance equals
 * the fixture payment (deposit 1000 on a grand total of GRAND_TOTAL + 1000, the deposit paid), or
 * a COD order that was never paid.
 */
function paymentTermsFor(row: Transition, events: OrderEvent[]): OrderEvent[] {
  const presale = row.guards.includes('balanceDue');
  const cod = row.guards.includes('codUnreserved') || row.guards.includes('codUncollected');
  if (!presale && !cod) return events;
  return events.flatMap((e): OrderEvent[] => {
    if (e.type === 'OrderPlaced') {
      const terms = presale
        ? { shippingFee: ORDER.shippingFee + 1000, presale: { depositAmount: 1000, balanceDueBy: '2099-01-01T00:00:00.000Z', shipNotBefore: '2099-01-02T00:00:00.000Z' } }
        : { paymentMethod: 'cod' as const };
      const order = { ...e.data.order, ...terms };
      return [{ ...e, data: { ...e.data, order: { ...order, totals: computeTotals(order) } } }];
    }
    if (e.type === 'OrderPaid') return cod ? [] : [{ ...e, data: { ...e.data, amount: 1000, presalePart: 'deposit' } }];
    return [e];
  });
}

/** The event types each command decides (with the fixture commands of order.fixtures). */
const DECIDES: Record<OrderCommandType, OrderEventType[]> = {
  PlaceOrder: ['OrderPlaced'],
  ConfirmPayment: ['OrderPaid'],
  RecordStockReserved: ['OrderStockReserved'],
  RecordStockShortage: ['OrderStockShortage'],
  RequireApproval: ['OrderRuleDecided', 'OrderApprovalRequired'],
  RecordApproval: ['OrderApproved'],
  RecordRejection: ['OrderApprovalRejected', 'OrderCancelled'],
  ReleaseToFulfillment: ['OrderReadyToShip'],
  RecordPacked: ['OrderPacked'],
  RecordShipped: ['OrderShipped'],
  RecordDelivered: ['OrderDelivered'],
  Archive: ['OrderArchived'],
  Cancel: ['OrderCancelled'],
  RequestRefund: ['OrderRefundRequested'],
  RecordRefunded: ['OrderRefunded'],
  PlaceHold: ['OrderPutOnHold'],
  ReleaseHold: ['OrderHoldReleased'],
  FlagException: ['OrderExceptionFlagged'],
  ResolveException: ['OrderExceptionResolved'],
  ApplyChange: ['OrderChanged'],
  RefuseChange: ['OrderChangeRefused'],
};

/** The fixture change adds a line: on a paid order its price difference is due and the order held (change-price.spec.ts). */
function decides(row: Transition): OrderEventType[] {
  if (row.command === 'ApplyChange' && row.from !== 'placed') return [...DECIDES.ApplyChange, 'OrderPaymentDue', 'OrderPutOnHold'];
  return DECIDES[row.command];
}

function stateAfter(events: OrderEvent[]): OrderState {
  return fold(orderDecider, events);
}

describe('order transition table: every row', () => {
  it.each(ORDER_TRANSITIONS.map((row) => [`${row.from} --${row.command}--> ${row.to} (${row.gate})`, row] as const))('%s', (_name, row) => {
    const given = spec.given(setupFor(row));
    const after = given.when(validCommand(row.command, row.from)).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(decides(row));
      for (const e of events) expect(e.data.orderId).toBe(ORDER_ID);
    });
    expect(after.status).toBe(row.to);
    if (row.gate === 'flag' && after.status !== 'none') {
      if (row.command === 'PlaceHold') expect(after.hold).not.toBeNull();
      if (row.command === 'ReleaseHold') expect(after.hold).toBeNull();
      if (row.command === 'FlagException') expect(after.exception).not.toBeNull();
      if (row.command === 'ResolveException') expect(after.exception).toBeNull();
    }
  });
});

describe('order transition table: every illegal command', () => {
  const illegal = ALL_STAGES.flatMap((stage) => ORDER_COMMAND_TYPES.filter((c) => !findTransition(stage, c)).map((c) => [stage, c] as const));

  it('covers every (stage, command) pair not in the table', () => {
    expect(illegal.length + ORDER_TRANSITIONS.length).toBe(ALL_STAGES.length * ORDER_COMMAND_TYPES.length);
  });

  it.each(illegal.map(([stage, command]) => [`${command} in ${stage}`, stage, command] as const))('refuses %s and decides nothing', (_name, stage, command) => {
    const expected =
      stage === 'none' ? { code: 'ORDER_NOT_FOUND', kind: 'not_found' } : command === 'PlaceOrder' ? { code: 'ORDER_ALREADY_EXISTS' } : { code: 'ORDER_ILLEGAL_TRANSITION', kind: 'conflict' };
    spec.given(eventsTo(stage)).when(validCommand(command, stage)).thenThrows(expected);
  });
});

describe('flags and a pending refund block advancing commands, not facts or exits', () => {
  const advance = ORDER_TRANSITIONS.filter((r) => r.gate === 'advance');
  const record = ORDER_TRANSITIONS.filter((r) => r.gate === 'record' && r.from !== 'none');
  const exits = ORDER_TRANSITIONS.filter((r) => r.gate === 'exit' && r.command === 'Cancel');

  it.each(advance.map((r) => [`${r.command} in ${r.from}`, r] as const))('%s is refused on hold (ORDER_ON_HOLD), in exception (ORDER_IN_EXCEPTION) and with a refund pending', (_n, row) => {
    spec.given([...setupFor(row), ev.held()]).when(validCommand(row.command, row.from)).thenThrows({ code: 'ORDER_ON_HOLD' });
    spec.given([...setupFor(row), ev.exception()]).when(validCommand(row.command, row.from)).thenThrows({ code: 'ORDER_IN_EXCEPTION' });
    const stage = row.from as OrderStage;
    spec
      .given([...setupFor(row), ev.refundRequested(stage, stage === 'delivered' ? 1000 : GRAND_TOTAL)])
      .when(validCommand(row.command, row.from))
      .thenThrows({ code: 'ORDER_REFUND_PENDING' });
  });

  it.each(record.map((r) => [`${r.command} in ${r.from}`, r] as const))('%s is recorded even on hold and in exception', (_n, row) => {
    const after = spec.given([...setupFor(row), ev.held(), ev.exception()]).when(validCommand(row.command, row.from)).thenEvents(() => undefined);
    expect(after.status).toBe(row.to);
  });

  it.each(exits.map((r) => [r.from, r] as const))('Cancel in %s is allowed on hold and in exception', (_n, row) => {
    const after = spec.given([...setupFor(row), ev.held(), ev.exception()]).when(validCommand('Cancel', row.from)).thenEvents(() => undefined);
    expect(after.status).toBe('cancelled');
  });
});

const cmd = <C extends OrderCommand>(c: C): C => c;

describe('PlaceOrder', () => {
  it('computes the totals on the server: lines - line discounts + shipping - order discount, in fen', () => {
    const order = { ...SUBMISSION, lines: lines({ quantity: 3, unitPrice: 1999, lineDiscount: 500 }, { sku: 'CUP-01', quantity: 1, unitPrice: 4500 }), shippingFee: 800, orderDiscount: 1000 };
    const s = spec.given([]).when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order } }).thenEvents(() => undefined);
    expect(s.status === 'placed' && s.order.totals).toEqual({ itemsTotal: 3 * 1999 - 500 + 4500, shippingFee: 800, orderDiscount: 1000, grandTotal: 3 * 1999 - 500 + 4500 + 800 - 1000, currency: 'CNY' });
  });

  it('refuses a placement time more than a day after receipt or before 2000, and a currency ISO 4217 does not list (422 naming the field)', () => {
    const place = (over: object) => spec.given([]).when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order: { ...SUBMISSION, ...over } } });
    place({ placedAt: '9999-12-31T23:59:59Z' }).thenThrows({ code: 'ORDER_INVALID', kind: 'invalid', details: { field: 'placedAt' } });
    place({ placedAt: new Date(Date.parse(T) + 25 * 3_600_000).toISOString() }).thenThrows({ code: 'ORDER_INVALID', details: { field: 'placedAt' } });
    place({ placedAt: '1999-12-31T23:59:59Z' }).thenThrows({ code: 'ORDER_INVALID', details: { field: 'placedAt' } });
    place({ currency: 'XYZ' }).thenThrows({ code: 'ORDER_INVALID', details: { field: 'currency' } });
    // A platform clock a few hours ahead, a years-old history import, another real currency: placed.
    for (const over of [{ placedAt: new Date(Date.parse(T) + 3 * 3_600_000).toISOString() }, { placedAt: '2019-06-01T00:00:00Z' }, { currency: 'HKD' }]) place(over).thenEvents(() => undefined);
  });

  it('refuses a client total that disagrees with the server total (ORDER_TOTAL_MISMATCH, 422)', () => {
    spec
      .given([])
      .when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order: SUBMISSION, clientGrandTotal: GRAND_TOTAL + 1 } })
      .thenThrows({ code: 'ORDER_TOTAL_MISMATCH', kind: 'invalid', details: { field: 'grandTotal', claimed: GRAND_TOTAL + 1, computed: GRAND_TOTAL } });
  });

  it('accepts a client total that agrees, and stores the full PII with the server-made id', () => {
    spec
      .given([])
      .when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order: SUBMISSION, clientGrandTotal: GRAND_TOTAL } })
      .then([{ type: 'OrderPlaced', data: { orderId: ORDER_ID, order: ORDER, placedAt: SUBMISSION.placedAt, receivedAt: T } }]);
  });

  it('keeps the channel-designated carrier and unit weights on the stored order (#12)', () => {
    const order = { ...SUBMISSION, designatedCarrier: 'JD', lines: SUBMISSION.lines.map((l) => ({ ...l, unitWeightGrams: 1500 })) };
    spec
      .given([])
      .when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order } })
      .then([{ type: 'OrderPlaced', data: { orderId: ORDER_ID, order: { ...ORDER, designatedCarrier: 'JD', lines: ORDER.lines.map((l) => ({ ...l, unitWeightGrams: 1500 })) }, placedAt: SUBMISSION.placedAt, receivedAt: T } }]);
  });

  it.each([
    ['lines', { lines: [] }],
    ['lines[0].quantity', { lines: lines({ quantity: 0 }) }],
    ['lines[0].quantity', { lines: lines({ quantity: 1.5 }) }],
    ['lines[0].unitPrice', { lines: lines({ unitPrice: 19.99 }) }],
    ['lines[0].unitPrice', { lines: lines({ unitPrice: -1 }) }],
    ['lines[1].lineId', { lines: [...lines({}), ...lines({ sku: 'X' })] }],
    ['lines[0].lineDiscount', { lines: lines({ quantity: 1, unitPrice: 100, lineDiscount: 101 }) }],
    ['orderDiscount', { orderDiscount: 1_000_000 }],
    ['shippingFee', { shippingFee: -5 }],
    ['currency', { currency: 'rmb' }],
    ['channelOrderId', { channelOrderId: ' ' }],
    ['shippingAddress.street', { shippingAddress: { ...SUBMISSION.shippingAddress, street: '' } }],
    ['placedAt', { placedAt: 'yesterday' }],
    ['lines[0].unitWeightGrams', { lines: lines({ unitWeightGrams: 0 }) }],
    ['lines[0].unitWeightGrams', { lines: lines({ unitWeightGrams: 2.5 }) }],
    ['designatedCarrier', { designatedCarrier: 'sf express' }],
  ] as const)('refuses an invalid order naming the field %s (ORDER_INVALID)', (field, patch) => {
    spec
      .given([])
      .when({ ...validCommand('PlaceOrder'), data: { orderId: ORDER_ID, order: { ...SUBMISSION, ...(patch as Partial<OrderSubmission>) } } })
      .thenThrows({ code: 'ORDER_INVALID', kind: 'invalid', details: { field } });
  });
});

describe('payment', () => {
  it('must equal the amount due (PAYMENT_AMOUNT_MISMATCH)', () => {
    spec
      .given(eventsTo('placed'))
      .when(cmd({ ...validCommand('ConfirmPayment'), data: { orderId: ORDER_ID, amount: GRAND_TOTAL - 1, currency: 'CNY' } }))
      .thenThrows({ code: 'PAYMENT_AMOUNT_MISMATCH', kind: 'invalid' });
  });

  it('must be in the order currency (PAYMENT_CURRENCY_MISMATCH)', () => {
    spec
      .given(eventsTo('placed'))
      .when(cmd({ ...validCommand('ConfirmPayment'), data: { orderId: ORDER_ID, amount: GRAND_TOTAL, currency: 'USD' } }))
      .thenThrows({ code: 'PAYMENT_CURRENCY_MISMATCH' });
  });

  it('is recorded while the order is on hold; the hold then blocks only our own next decision', () => {
    const s = spec.given([ev.placed(), ev.held()]).when(validCommand('ConfirmPayment')).then([{ type: 'OrderPaid', data: { orderId: ORDER_ID, amount: GRAND_TOTAL, currency: 'CNY', paymentRef: 'ALIPAY-2025112522001', paidAt: T } }]);
    expect(s.status).toBe('paid');
  });

  it("keeps the platform's reported pay time (an import hours later) beside the recorded one; the flow's clocks count from the recording", () => {
    const reported = '2025-11-25T07:00:00+08:00';
    const s = spec
      .given(eventsTo('placed'))
      .when(cmd({ ...validCommand('ConfirmPayment'), data: { orderId: ORDER_ID, amount: GRAND_TOTAL, currency: 'CNY', paidAt: reported } }))
      .then([{ type: 'OrderPaid', data: { orderId: ORDER_ID, amount: GRAND_TOTAL, currency: 'CNY', paidAt: T, reportedPaidAt: '2025-11-24T23:00:00.000Z' } }]);
    expect(s.status === 'paid' && s.payment).toEqual({ amount: GRAND_TOTAL, currency: 'CNY', paidAt: T, reportedPaidAt: '2025-11-24T23:00:00.000Z' });
    expect(s.status === 'paid' && [s.stageSince, s.movableSince]).toEqual([T, T]);
  });

  it.each([
    ['not a time', 'yesterday'],
    ['more than a day ahead of the clock', new Date(Date.parse(T) + 86_400_000 + 60_000).toISOString()],
    ['before 2000', '1999-12-31T23:59:59.000Z'],
  ])('refuses a reported pay time %s (ORDER_INVALID naming paidAt)', (_why, paidAt) => {
    spec
      .given(eventsTo('placed'))
      .when(cmd({ ...validCommand('ConfirmPayment'), data: { orderId: ORDER_ID, amount: GRAND_TOTAL, currency: 'CNY', paidAt } }))
      .thenThrows({ code: 'ORDER_INVALID', kind: 'invalid', details: { field: 'paidAt' } });
  });
});

describe('stock', () => {
  it('a partial allocation is recorded but leaves allLinesReserved false, and release is refused (ORDER_STOCK_NOT_RESERVED)', () => {
    spec.given([...eventsTo('paid'), ev.reserved(false)]).when(validCommand('ReleaseToFulfillment')).thenThrows({ code: 'ORDER_STOCK_NOT_RESERVED' });
  });

  it('refuses an allocation for a line the order does not have (ORDER_ALLOCATION_INVALID)', () => {
    spec
      .given(eventsTo('paid'))
      .when(cmd({ ...validCommand('RecordStockReserved'), data: { orderId: ORDER_ID, reservationId: 'R', allocations: [{ lineId: 'L9', sku: 'X', warehouseId: 'W', quantity: 1 }] } }))
      .thenThrows({ code: 'ORDER_ALLOCATION_INVALID', details: { field: 'allocations[0].lineId' } });
  });

  it('a shortage keeps the order paid and records the missing lines', () => {
    const s = spec.given(eventsTo('paid')).when(validCommand('RecordStockShortage')).thenEvents(() => undefined);
    expect(s.status === 'paid' && s.shortage?.missing).toEqual([{ sku: ORDER.lines[0].sku, requested: 2, available: 1 }]);
  });
});

describe('approval', () => {
  it('records every rule decision as OrderRuleDecided naming the rule id, rule-set version and hash', () => {
    spec.given(eventsTo('stock_reserved')).when(validCommand('RequireApproval')).then([
      { type: 'OrderRuleDecided', data: { orderId: ORDER_ID, ruleId: DECISION.ruleId, ruleSetVersion: '2025.12.1', ruleSetHash: DECISION.ruleSetHash, decision: 'require_approval', params: { chain: 'custom-order' }, decidedAt: T } },
      { type: 'OrderApprovalRequired', data: { orderId: ORDER_ID, chain: 'custom-order', ruleId: DECISION.ruleId, ruleSetVersion: '2025.12.1', ruleSetHash: DECISION.ruleSetHash, requiredAt: T } },
    ]);
  });

  it('release while the approval is still open is refused (ORDER_APPROVAL_PENDING)', () => {
    spec.given(eventsTo('awaiting_approval')).when(validCommand('ReleaseToFulfillment')).thenThrows({ code: 'ORDER_APPROVAL_PENDING' });
  });

  it('a second grant is refused (ORDER_APPROVAL_NOT_PENDING)', () => {
    spec.given([...eventsTo('awaiting_approval'), ev.approved()]).when(validCommand('RecordApproval')).thenThrows({ code: 'ORDER_APPROVAL_NOT_PENDING' });
  });

  it('a decision for another chain is refused (ORDER_APPROVAL_CHAIN_MISMATCH)', () => {
    spec
      .given(eventsTo('awaiting_approval'))
      .when(cmd({ ...validCommand('RecordApproval'), data: { orderId: ORDER_ID, approvalId: 'A', chain: 'big-order' } }))
      .thenThrows({ code: 'ORDER_APPROVAL_CHAIN_MISMATCH' });
  });

  it('a rejection cancels the order and says why', () => {
    const s = spec.given(eventsTo('awaiting_approval')).when(validCommand('RecordRejection')).thenEvents(() => undefined);
    expect(s.status === 'cancelled' && s.cancellation).toEqual({ reason: 'approval rejected: price too low', stageAtCancel: 'awaiting_approval', cancelledAt: T });
  });
});

describe('cancel and refund', () => {
  it('a refund before shipment must return the full amount (REFUND_AMOUNT_INVALID)', () => {
    spec
      .given(eventsTo('packed'))
      .when(cmd({ ...validCommand('RequestRefund', 'packed'), data: { orderId: ORDER_ID, amount: 100, reason: 'x' } }))
      .thenThrows({ code: 'REFUND_AMOUNT_INVALID', kind: 'invalid' });
  });

  it('a refund before shipment ends the order as refunded', () => {
    const s = spec.given([...eventsTo('packed'), ev.refundRequested('packed')]).when(validCommand('RecordRefunded', 'packed')).then([
      { type: 'OrderRefunded', data: { orderId: ORDER_ID, amount: GRAND_TOTAL, afterShipment: false, refundedAt: T } },
    ]);
    expect(s.status).toBe('refunded');
  });

  it('a refund after shipment may be partial, keeps the stage and is recorded for the returns flow', () => {
    const s = spec.given([...eventsTo('delivered'), ev.refundRequested('delivered', 1000)]).when(validCommand('RecordRefunded', 'delivered')).then([
      { type: 'OrderRefunded', data: { orderId: ORDER_ID, amount: 1000, afterShipment: true, refundedAt: T } },
    ]);
    expect(s.status === 'delivered' && s.refund).toEqual({ pending: null, refundedTotal: 1000 });
  });

  it('a refund after shipment cannot exceed what was paid and not yet refunded', () => {
    spec
      .given([...eventsTo('delivered'), ev.refundRequested('delivered', GRAND_TOTAL - 10), ev.refunded(true, GRAND_TOTAL - 10)])
      .when(cmd({ ...validCommand('RequestRefund', 'delivered'), data: { orderId: ORDER_ID, amount: 11, reason: 'x' } }))
      .thenThrows({ code: 'REFUND_AMOUNT_INVALID' });
  });

  it('the refunded amount must equal the requested amount (REFUND_AMOUNT_MISMATCH)', () => {
    spec
      .given([...eventsTo('paid'), ev.refundRequested('paid')])
      .when(cmd({ ...validCommand('RecordRefunded'), data: { orderId: ORDER_ID, amount: 1 } }))
      .thenThrows({ code: 'REFUND_AMOUNT_MISMATCH' });
  });

  it('RecordRefunded without a request is refused (REFUND_NOT_REQUESTED)', () => {
    spec.given(eventsTo('stock_reserved')).when(validCommand('RecordRefunded')).thenThrows({ code: 'REFUND_NOT_REQUESTED' });
  });

  it('cancel while a refund is open is refused (ORDER_REFUND_PENDING)', () => {
    spec.given([...eventsTo('ready_to_ship'), ev.refundRequested('ready_to_ship')]).when(validCommand('Cancel')).thenThrows({ code: 'ORDER_REFUND_PENDING' });
  });

  it('a cancelled paid order owes the money back; recording it keeps the order cancelled', () => {
    const s = spec.given(eventsTo('cancelled')).when(validCommand('RecordRefunded', 'cancelled')).then([
      { type: 'OrderRefunded', data: { orderId: ORDER_ID, amount: GRAND_TOTAL, afterShipment: false, refundedAt: T } },
    ]);
    expect(s.status).toBe('cancelled');
    spec.given([...eventsTo('cancelled'), ev.refunded()]).when(validCommand('RecordRefunded', 'cancelled')).thenThrows({ code: 'REFUND_NOT_REQUESTED' });
  });

  it('an unpaid cancelled order owes nothing', () => {
    spec.given([ev.placed(), ev.cancelled('placed')]).when(validCommand('RecordRefunded', 'cancelled')).thenThrows({ code: 'REFUND_NOT_REQUESTED' });
  });

  it('records the stage the order was cancelled in, so consumers know what to undo', () => {
    spec.given(eventsTo('packed')).when(validCommand('Cancel')).then([{ type: 'OrderCancelled', data: { orderId: ORDER_ID, reason: 'buyer changed mind', stageAtCancel: 'packed', cancelledAt: T } }]);
  });

  it('a cancel needs a reason (ORDER_INVALID naming reason)', () => {
    spec.given(eventsTo('placed')).when(cmd({ ...validCommand('Cancel'), data: { orderId: ORDER_ID, reason: '  ' } })).thenThrows({ code: 'ORDER_INVALID', details: { field: 'reason', reason: 'must not be empty' } });
  });
});

describe('holds and exceptions', () => {
  it('a second hold is refused (ORDER_ALREADY_ON_HOLD); releasing a hold that is not there too (ORDER_NOT_ON_HOLD)', () => {
    spec.given([ev.placed(), ev.held()]).when(validCommand('PlaceHold')).thenThrows({ code: 'ORDER_ALREADY_ON_HOLD' });
    spec.given([ev.placed()]).when(validCommand('ReleaseHold')).thenThrows({ code: 'ORDER_NOT_ON_HOLD' });
  });

  it('a second exception is refused (ORDER_ALREADY_IN_EXCEPTION); resolving none too (ORDER_NOT_IN_EXCEPTION)', () => {
    spec.given([ev.placed(), ev.exception()]).when(validCommand('FlagException')).thenThrows({ code: 'ORDER_ALREADY_IN_EXCEPTION' });
    spec.given([ev.placed()]).when(validCommand('ResolveException')).thenThrows({ code: 'ORDER_NOT_IN_EXCEPTION' });
  });

  it('a hold placed by a rule records the rule decision, and releasing it remembers the override', () => {
    const hold = { ...DECISION, ruleId: 'hold-blocked-customer', decision: 'hold_for_review' as const, params: { reason: 'customer is tagged blocked' } };
    const s = spec
      .given(eventsTo('placed'))
      .when(cmd({ ...validCommand('PlaceHold'), data: { orderId: ORDER_ID, reason: 'customer is tagged blocked', decision: hold } }))
      .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['OrderRuleDecided', 'OrderPutOnHold']));
    expect(s.status === 'placed' && s.hold?.ruleId).toBe('hold-blocked-customer');
    const released = stateAfter([ev.placed(), ev.held('hold-blocked-customer'), ev.holdReleased()]);
    expect(released.status === 'placed' && released.overriddenHoldRules).toEqual(['hold-blocked-customer']);
  });
});

describe('shipment', () => {
  it('refuses a shipped report for another shipment (ORDER_SHIPMENT_MISMATCH)', () => {
    spec
      .given(eventsTo('packed'))
      .when(cmd({ ...validCommand('RecordShipped'), data: { orderId: ORDER_ID, shipmentId: 'SHP-2', carrier: 'SF', trackingNumber: 'X' } }))
      .thenThrows({ code: 'ORDER_SHIPMENT_MISMATCH' });
  });

  it('records the real handover time fulfillment reported as shippedAt (never later than the record time)', () => {
    spec
      .given(eventsTo('packed'))
      .when(cmd({ ...validCommand('RecordShipped'), data: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrier: 'SF', trackingNumber: 'X', shippedAt: '2025-11-25T07:00:00.000Z' } }))
      .thenEvents((events) => expect((events[0].data as { shippedAt: string }).shippedAt).toBe('2025-11-25T07:00:00.000Z'));
  });

  it('ships an order in several parcels with its last parcel, which may not be the one recorded packed', () => {
    spec
      .given(eventsTo('packed'))
      .when(cmd({ ...validCommand('RecordShipped'), data: { orderId: ORDER_ID, shipmentId: 'SHP-2', carrier: 'SF', trackingNumber: 'X', lastOfParcels: true } }))
      .thenEvents((events) => expect(events.map((e) => [e.type, (e.data as { shipmentId?: string }).shipmentId])).toEqual([['OrderShipped', 'SHP-2']]));
  });
});

describe('events', () => {
  it('are plain JSON with ISO times: a JSON round trip folds to the same state', () => {
    const events = eventsTo('archived');
    const copy = JSON.parse(JSON.stringify(events)) as OrderEvent[];
    expect(stateAfter(copy)).toEqual(stateAfter(events));
    expect(stateAfter(events).status).toBe('archived');
  });

  it('an event before OrderPlaced means a corrupt stream and fails loudly', () => {
    expect(() => stateAfter([ev.paid()])).toThrow(/corrupt/);
  });
});
