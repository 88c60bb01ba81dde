import type { OrderStage } from '@flowline/contracts';
import { assertNever, type Decider } from '@flowline/domain';
import type { OrderCommand, OrderCommandOf, RuleDecisionRecord } from './order.commands';
import { OrderErrorCode, OrderErrors } from './order.errors';
import type { OrderEvent, OrderEventOf } from './order.events';
import { computeTotals, validateSubmission, type CanonicalOrder } from './order.model';
import { findTransition, isPreShipment, type Guard, type Transition } from './order-transitions';
import { changePaymentDue, isCod, isExisting, presaleBalanceDue, presaleSettled, refundable, refundOwed, type ExistingOrder, type OrderData, type OrderState } from './order.state';
import { confirmChangePayment, confirmsPartialRefund, evolvePriceDifference, partialRefunded, priceDifferenceEvents } from './change-price';

/**
 * The order aggregate as a pure Decider (stream `order-<orderId>`).
 * `decide` looks the (stage, command) pair up in ORDER_TRANSITIONS, checks the row's gate and
 * guards, then validates the command's own data; every refusal is a DomainError with a stable code.
 */
export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
};

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  const row = findTransition(state.status, command.type);
  if (!isExisting(state)) {
    if (!row) throw OrderErrors.notFound(command.data.orderId);
  } else if (!row) {
    if (command.type === 'PlaceOrder') throw OrderErrors.alreadyExists(state.orderId);
    throw OrderErrors.illegalTransition(state.status, command.type);
  }
  if (command.type === 'PlaceOrder') return placeOrder(command);
  if (!isExisting(state) || !row) throw OrderErrors.notFound(command.data.orderId); // unreachable: only PlaceOrder has a 'none' row
  checkGate(row, command.type, state);
  for (const guard of row.guards) checkGuard(guard, state, command.metadata.now);
  return decideExisting(command, state, row);
}

function checkGate(row: Transition, command: string, s: ExistingOrder): void {
  if (row.gate !== 'advance') return;
  if (s.hold) throw OrderErrors.onHold(command, s.hold.reason);
  if (s.exception) throw OrderErrors.inException(command, s.exception.code);
  if (s.refund.pending) throw OrderErrors.refundPending(command);
}

function checkGuard(guard: Guard, s: ExistingOrder, now: string): void {
  switch (guard) {
    case 'approvalPending':
      if (s.approval?.status !== 'pending') throw OrderErrors.conflict(OrderErrorCode.ApprovalNotPending, 'no approval is open for this order');
      return;
    case 'approvalGranted':
      if (s.approval?.status !== 'granted')
        throw OrderErrors.conflict(OrderErrorCode.ApprovalPending, 'the approval chain has not granted this order yet', { chain: s.approval?.chain });
      return;
    case 'allLinesReserved':
      if (!s.reservation?.allLinesReserved) throw OrderErrors.conflict(OrderErrorCode.StockNotReserved, 'not every line of the order is reserved');
      return;
    case 'noRefundPending':
      if (s.refund.pending) throw OrderErrors.conflict(OrderErrorCode.RefundPending, 'a refund request is already open for this order');
      return;
    case 'refundOwed':
      if (refundOwed(s) <= 0) throw OrderErrors.conflict(OrderErrorCode.RefundNotRequested, 'no refund has been requested for this order');
      return;
    case 'holdAbsent':
      if (s.hold) throw OrderErrors.conflict(OrderErrorCode.AlreadyOnHold, `the order is already on hold (${s.hold.reason})`);
      return;
    case 'holdPresent':
      if (!s.hold) throw OrderErrors.conflict(OrderErrorCode.NotOnHold, 'the order is not on hold');
      return;
    case 'exceptionAbsent':
      if (s.exception) throw OrderErrors.conflict(OrderErrorCode.AlreadyInException, `the order is already in exception (${s.exception.code})`);
      return;
    case 'exceptionPresent':
      if (!s.exception) throw OrderErrors.conflict(OrderErrorCode.NotInException, 'the order is not in exception');
      return;
    case 'balanceDue':
      if (!presaleBalanceDue(s) && changePaymentDue(s) <= 0)
        // A second payment on a paid order: say so (a plain order has no "presale balance" to speak of).
        throw OrderErrors.conflict(OrderErrorCode.BalanceNotDue, s.order.presale ? 'no presale balance is due on this order' : 'the order is already paid; nothing is due on it');
      return;
    case 'changePaymentDue':
      if (changePaymentDue(s) <= 0) throw OrderErrors.conflict(OrderErrorCode.BalanceNotDue, 'no change payment is due on this order');
      return;
    case 'presaleSettled':
      if (!presaleSettled(s, now))
        throw OrderErrors.conflict(OrderErrorCode.PresaleNotSettled, 'a presale order ships once its balance is paid and its ship date has come', {
          balanceDue: presaleBalanceDue(s),
          shipNotBefore: s.order.presale?.shipNotBefore,
        });
      return;
    case 'codUnreserved':
      if (!isCod(s)) throw OrderErrors.conflict(OrderErrorCode.NotCod, 'only a cash-on-delivery order is reserved before payment');
      return;
    case 'codUncollected':
      if (!isCod(s) || s.payment) throw OrderErrors.conflict(OrderErrorCode.NotCod, 'no cash-on-delivery payment is due on this order');
      return;
    default:
      return assertNever(guard, 'guard');
  }
}

function text(field: string, value: unknown, max = 500): string {
  if (typeof value !== 'string' || value.trim() === '') throw OrderErrors.invalid(field, 'must not be empty');
  if (value.length > max) throw OrderErrors.invalid(field, `must be at most ${max} characters`);
  return value;
}

function amount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw OrderErrors.invalid(field, 'must be a non-negative integer amount in minor units');
  return value;
}

function isoTime(field: string, value: unknown): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw OrderErrors.invalid(field, 'must be an ISO-8601 time');
  return value;
}

const DAY_MS = 86_400_000;
const EARLIEST_PLACED_AT = Date.parse('2000-01-01T00:00:00.000Z');

/**
 * When the buyer placed it: in the past (a history import may be years old), or at most a day
 * ahead of our clock (a platform's clock or zone slightly off). Later is a broken feed, and such an
 * order would sort first on every list for ever.
 */
function validatePlacedAt(placedAt: string, now: string): void {
  const t = Date.parse(placedAt);
  if (t > Date.parse(now) + DAY_MS) throw OrderErrors.invalid('placedAt', `must not be more than a day after the order is received (${now})`);
  if (t < EARLIEST_PLACED_AT) throw OrderErrors.invalid('placedAt', 'must be in the year 2000 or later');
}

/**
 * When the customer paid, as the platform or provider reports it (ConfirmPayment's paidAt), as the
 * events' reportedPaidAt: in the past (an import may come hours or days later), at most a day ahead
 * of our clock, in 2000 or later. The flow's own timers still count from when it was recorded.
 */
function reportedPaidAt(c: OrderCommandOf<'ConfirmPayment'>): string | undefined {
  if (c.data.paidAt === undefined) return undefined;
  const t = Date.parse(isoTime('paidAt', c.data.paidAt));
  if (t > Date.parse(c.metadata.now) + DAY_MS) throw OrderErrors.invalid('paidAt', `must not be more than a day after the payment is recorded (${c.metadata.now})`);
  if (t < EARLIEST_PLACED_AT) throw OrderErrors.invalid('paidAt', 'must be in the year 2000 or later');
  return new Date(t).toISOString();
}

function withReportedPaidAt(events: OrderEvent[], at: string | undefined): OrderEvent[] {
  return at === undefined ? events : events.map((e) => (e.type === 'OrderPaid' ? { ...e, data: { ...e.data, reportedPaidAt: at } } : e));
}

function placeOrder(c: OrderCommandOf<'PlaceOrder'>): OrderEvent[] {
  const { orderId, order: submitted, clientGrandTotal } = c.data;
  text('orderId', orderId, 64);
  validateSubmission(submitted);
  if (submitted.placedAt !== undefined) validatePlacedAt(isoTime('placedAt', submitted.placedAt), c.metadata.now);
  const totals = computeTotals(submitted);
  validatePaymentTerms(submitted, totals.grandTotal);
  if (clientGrandTotal !== undefined && clientGrandTotal !== totals.grandTotal) {
    throw OrderErrors.totalMismatch('grandTotal', clientGrandTotal, totals.grandTotal);
  }
  const order: CanonicalOrder = { ...structuredClone(submitted), orderId, totals };
  return [{ type: 'OrderPlaced', data: { orderId, order, placedAt: submitted.placedAt, receivedAt: c.metadata.now } }];
}

/** Presale and COD terms (additive PlaceOrder fields). */
function validatePaymentTerms(o: OrderCommandOf<'PlaceOrder'>['data']['order'], grandTotal: number): void {
  if (o.paymentMethod !== undefined && o.paymentMethod !== 'online' && o.paymentMethod !== 'cod') throw OrderErrors.invalid('paymentMethod', 'must be online or cod');
  const p = o.presale;
  if (!p) return;
  if (o.paymentMethod === 'cod') throw OrderErrors.invalid('presale', 'a presale order is paid online (deposit and balance), not cash on delivery');
  if (typeof p.depositAmount !== 'number' || !Number.isSafeInteger(p.depositAmount) || p.depositAmount <= 0 || p.depositAmount >= grandTotal)
    throw OrderErrors.invalid('presale.depositAmount', `must be a positive integer amount in minor units below the grand total ${grandTotal}`);
  isoTime('presale.balanceDueBy', p.balanceDueBy);
  isoTime('presale.shipNotBefore', p.shipNotBefore);
}

/**
 * Presale payments. The first payment is the deposit (定金: exactly `depositAmount`) or, when the
 * platform reports both at once, the whole grand total (then deposit and balance are recorded
 * together); the second is the balance (尾款: exactly the rest).
 */
function confirmPresalePayment(c: OrderCommandOf<'ConfirmPayment'>, s: ExistingOrder, p: NonNullable<ExistingOrder['order']['presale']>): OrderEvent[] {
  const { currency, grandTotal } = s.order.totals;
  if (c.data.currency !== currency)
    throw OrderErrors.unprocessable(OrderErrorCode.PaymentCurrencyMismatch, `payment currency ${c.data.currency} differs from the order's ${currency}`, { field: 'currency' });
  const paid = amount('amount', c.data.amount);
  const ref = c.data.paymentRef ? { paymentRef: c.data.paymentRef } : {};
  const base = { orderId: s.orderId, currency, ...ref, paidAt: c.metadata.now };
  if (!s.payment) {
    if (paid === p.depositAmount) return [{ type: 'OrderPaid', data: { ...base, amount: paid, presalePart: 'deposit' } }];
    if (paid === grandTotal)
      return [
        { type: 'OrderPaid', data: { ...base, amount: p.depositAmount, presalePart: 'deposit' } },
        { type: 'OrderPaid', data: { ...base, amount: grandTotal - p.depositAmount, presalePart: 'balance' } },
      ];
    throw OrderErrors.unprocessable(OrderErrorCode.PaymentAmountMismatch, `a presale order takes its deposit ${p.depositAmount} (or the whole ${grandTotal}), not ${paid}`, {
      field: 'amount',
      paid,
      due: p.depositAmount,
    });
  }
  const balance = grandTotal - s.payment.amount;
  if (paid !== balance)
    throw OrderErrors.unprocessable(OrderErrorCode.PaymentAmountMismatch, `the presale balance is ${balance}, not ${paid}`, { field: 'amount', paid, due: balance });
  return [{ type: 'OrderPaid', data: { ...base, amount: paid, presalePart: 'balance' } }];
}

function ruleDecided(orderId: string, d: RuleDecisionRecord, now: string): OrderEvent {
  return {
    type: 'OrderRuleDecided',
    data: {
      orderId,
      ruleId: d.ruleId,
      ruleSetVersion: d.ruleSetVersion,
      ruleSetHash: d.ruleSetHash,
      decision: d.decision,
      ...(d.params !== undefined ? { params: d.params } : {}),
      decidedAt: now,
    },
  };
}

function decideExisting(c: Exclude<OrderCommand, { type: 'PlaceOrder' }>, s: ExistingOrder, row: Transition): OrderEvent[] {
  const orderId = s.orderId;
  const now = c.metadata.now;
  switch (c.type) {
    case 'ConfirmPayment': {
      const reported = reportedPaidAt(c);
      // What an applied change made due (a presale balance still open absorbs a change instead).
      if (changePaymentDue(s) > 0 && !presaleBalanceDue(s)) return withReportedPaidAt(confirmChangePayment(c, s), reported);
      if (s.order.presale) return withReportedPaidAt(confirmPresalePayment(c, s, s.order.presale), reported);
      const due = s.order.totals;
      if (c.data.currency !== due.currency)
        throw OrderErrors.unprocessable(OrderErrorCode.PaymentCurrencyMismatch, `payment currency ${c.data.currency} differs from the order's ${due.currency}`, {
          field: 'currency',
        });
      if (amount('amount', c.data.amount) !== due.grandTotal)
        throw OrderErrors.unprocessable(OrderErrorCode.PaymentAmountMismatch, `payment of ${c.data.amount} does not equal the amount due ${due.grandTotal}`, {
          field: 'amount',
          paid: c.data.amount,
          due: due.grandTotal,
        });
      return withReportedPaidAt(
        [{ type: 'OrderPaid', data: { orderId, amount: c.data.amount, currency: c.data.currency, ...(c.data.paymentRef ? { paymentRef: c.data.paymentRef } : {}), paidAt: now } }],
        reported,
      );
    }
    case 'RecordStockReserved': {
      text('reservationId', c.data.reservationId, 100);
      const lines = new Map(s.order.lines.map((l) => [l.lineId, l]));
      const reserved = new Map<string, number>();
      c.data.allocations.forEach((a, i) => {
        const line = lines.get(a.lineId);
        if (!line) throw OrderErrors.unprocessable(OrderErrorCode.AllocationInvalid, `allocation for unknown line ${a.lineId}`, { field: `allocations[${i}].lineId` });
        if (line.sku !== a.sku)
          throw OrderErrors.unprocessable(OrderErrorCode.AllocationInvalid, `line ${a.lineId} is ${line.sku}, not ${a.sku}`, { field: `allocations[${i}].sku` });
        if (!Number.isSafeInteger(a.quantity) || a.quantity <= 0)
          throw OrderErrors.unprocessable(OrderErrorCode.AllocationInvalid, 'allocated quantity must be a positive integer', { field: `allocations[${i}].quantity` });
        reserved.set(a.lineId, (reserved.get(a.lineId) ?? 0) + a.quantity);
      });
      const allLinesReserved = s.order.lines.every((l) => (reserved.get(l.lineId) ?? 0) >= l.quantity);
      return [{ type: 'OrderStockReserved', data: { orderId, reservationId: c.data.reservationId, allocations: c.data.allocations, allLinesReserved, reservedAt: now } }];
    }
    case 'RecordStockShortage':
      if (c.data.missing.length === 0) throw OrderErrors.invalid('missing', 'a shortage names at least one SKU');
      return [{ type: 'OrderStockShortage', data: { orderId, missing: c.data.missing, reportedAt: now } }];
    case 'RequireApproval':
      text('chain', c.data.chain, 100);
      return [
        ...c.data.decisions.map((d) => ruleDecided(orderId, d, now)),
        {
          type: 'OrderApprovalRequired',
          data: {
            orderId,
            chain: c.data.chain,
            ruleId: c.data.decision.ruleId,
            ruleSetVersion: c.data.decision.ruleSetVersion,
            ruleSetHash: c.data.decision.ruleSetHash,
            requiredAt: now,
          },
        },
      ];
    case 'RecordApproval':
    case 'RecordRejection': {
      if (c.data.chain !== s.approval?.chain)
        throw OrderErrors.conflict(OrderErrorCode.ApprovalChainMismatch, `the order awaits chain ${s.approval?.chain}, not ${c.data.chain}`, {
          expected: s.approval?.chain,
          actual: c.data.chain,
        });
      text('approvalId', c.data.approvalId, 100);
      if (c.type === 'RecordApproval') return [{ type: 'OrderApproved', data: { orderId, chain: c.data.chain, approvalId: c.data.approvalId, approvedAt: now } }];
      const reason = text('reason', c.data.reason);
      return [
        {
          type: 'OrderApprovalRejected',
          data: { orderId, chain: c.data.chain, approvalId: c.data.approvalId, reason, ...(c.data.rejectedBy ? { rejectedBy: c.data.rejectedBy } : {}), rejectedAt: now },
        },
        { type: 'OrderCancelled', data: { orderId, reason: `approval rejected: ${reason}`, stageAtCancel: s.status, cancelledAt: now } },
      ];
    }
    case 'ReleaseToFulfillment':
      return [
        ...c.data.decisions.map((d) => ruleDecided(orderId, d, now)),
        { type: 'OrderReadyToShip', data: { orderId, priority: c.data.priority, freeShipping: c.data.freeShipping, requiresQc: c.data.requiresQc, releasedAt: now } },
      ];
    case 'RecordPacked':
      text('shipmentId', c.data.shipmentId, 100);
      return [{ type: 'OrderPacked', data: { orderId, shipmentId: c.data.shipmentId, ...(c.data.waybillNo ? { waybillNo: c.data.waybillNo } : {}), packedAt: now } }];
    case 'RecordShipped': {
      if (s.shipment && s.shipment.shipmentId !== c.data.shipmentId && !c.data.lastOfParcels)
        throw OrderErrors.conflict(OrderErrorCode.ShipmentMismatch, `the order was packed as shipment ${s.shipment.shipmentId}, not ${c.data.shipmentId}`);
      text('carrier', c.data.carrier, 100);
      text('trackingNumber', c.data.trackingNumber, 100);
      // The handover time fulfillment reported (the end of the ready -> shipped SLA segment), never after the record time.
      const handedOver = c.data.shippedAt !== undefined ? new Date(isoTime('shippedAt', c.data.shippedAt)).toISOString() : now;
      return [{ type: 'OrderShipped', data: { orderId, shipmentId: c.data.shipmentId, carrier: c.data.carrier, trackingNumber: c.data.trackingNumber, shippedAt: handedOver < now ? handedOver : now } }];
    }
    case 'RecordDelivered':
      return [{ type: 'OrderDelivered', data: { orderId, deliveredAt: isoTime('deliveredAt', c.data.deliveredAt) } }];
    case 'Archive':
      return [{ type: 'OrderArchived', data: { orderId, archivedAt: now } }];
    case 'Cancel':
      return [{ type: 'OrderCancelled', data: { orderId, reason: text('reason', c.data.reason), stageAtCancel: s.status, cancelledAt: now } }];
    case 'RequestRefund': {
      const reason = text('reason', c.data.reason);
      const max = refundable(s);
      const requested = amount('amount', c.data.amount);
      // Before shipment a refund ends the order, so it returns everything paid; after shipment it
      // may be partial (a returned line) and is recorded for the returns flow.
      if (isPreShipment(s.status) ? requested !== max : requested <= 0 || requested > max)
        throw OrderErrors.unprocessable(
          OrderErrorCode.RefundAmountInvalid,
          isPreShipment(s.status) ? `a refund before shipment returns the full ${max}` : `a refund after shipment is between 1 and ${max}`,
          { field: 'amount', requested, refundable: max },
        );
      return [{ type: 'OrderRefundRequested', data: { orderId, amount: requested, reason, stageAtRequest: s.status, requestedAt: now } }];
    }
    case 'RecordRefunded': {
      // A change's partial refund: recorded, the stage stays (the table's row is for a full refund).
      if (confirmsPartialRefund(s)) return partialRefunded(c, s);
      const owed = refundOwed(s);
      if (c.data.amount !== owed)
        throw OrderErrors.unprocessable(OrderErrorCode.RefundAmountMismatch, `refunded ${c.data.amount} but ${owed} is owed`, { field: 'amount', owed });
      return [{ type: 'OrderRefunded', data: { orderId, amount: owed, afterShipment: row.to !== 'refunded' && s.status !== 'cancelled', refundedAt: now } }];
    }
    case 'PlaceHold': {
      const reason = text('reason', c.data.reason);
      const d = c.data.decision;
      return [
        ...(d ? [ruleDecided(orderId, d, now)] : []),
        { type: 'OrderPutOnHold', data: { orderId, reason, ...(d ? { ruleId: d.ruleId } : {}), heldAt: now } },
      ];
    }
    case 'ReleaseHold':
      return [{ type: 'OrderHoldReleased', data: { orderId, reason: text('reason', c.data.reason), releasedAt: now } }];
    case 'FlagException':
      return [
        {
          type: 'OrderExceptionFlagged',
          data: { orderId, code: text('code', c.data.code, 100), reason: text('reason', c.data.reason), ...(c.data.details ? { details: c.data.details } : {}), flaggedAt: now },
        },
      ];
    case 'ResolveException':
      return [{ type: 'OrderExceptionResolved', data: { orderId, reason: text('reason', c.data.reason), resolvedAt: now } }];
    case 'ApplyChange': {
      const changed = applyChange(c, s);
      return [changed, ...priceDifferenceEvents(changed, s)];
    }
    case 'RefuseChange':
      return [
        {
          type: 'OrderChangeRefused',
          data: {
            orderId,
            approvalId: c.data.approvalId,
            changeRequestId: c.data.changeRequestId,
            reason: text('reason', c.data.reason),
            stage: s.status,
            ...(s.shipment ? { shipmentId: s.shipment.shipmentId } : {}),
            refusedAt: now,
          },
        },
      ];
    default:
      return assertNever(c, 'command');
  }
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

/** A stream that does not start with OrderPlaced is corrupt: fail loudly rather than guess. */
function existing(s: OrderState, event: OrderEvent): ExistingOrder {
  if (!isExisting(s)) throw new Error(`order stream corrupt: ${event.type} before OrderPlaced`);
  return s;
}

/**
 * An approved change request applied to the order's current lines: removed lines go, quantities
 * change, added lines come; totals are recomputed here (the change's own figures are the
 * requester's view). One event carries all of it.
 */
function applyChange(c: OrderCommandOf<'ApplyChange'>, s: ExistingOrder): OrderEventOf<'OrderChanged'> {
  if (s.status === 'packed' && !c.data.reopen)
    throw OrderErrors.conflict(OrderErrorCode.IllegalTransition, `the order is packed (shipment ${s.shipment?.shipmentId ?? '?'}): a change needs a manager override of the freeze`, {
      stage: s.status,
      command: 'ApplyChange',
    });
  const current = s.order.lines;
  const ids = new Set(current.map((l) => l.lineId));
  c.data.removed.forEach((id, i) => {
    if (!ids.has(id)) throw OrderErrors.invalid(`removed[${i}]`, `no line ${id} on the order`);
  });
  c.data.quantities.forEach((q, i) => {
    if (!ids.has(q.lineId)) throw OrderErrors.invalid(`quantities[${i}].lineId`, `no line ${q.lineId} on the order`);
  });
  c.data.added.forEach((l, i) => {
    if (ids.has(l.lineId)) throw OrderErrors.invalid(`added[${i}].lineId`, `line ${l.lineId} already exists`);
  });
  const removed = new Set(c.data.removed);
  const changed = new Map(c.data.quantities.map((q) => [q.lineId, q.after]));
  const lines = [...current.filter((l) => !removed.has(l.lineId)).map((l) => ({ ...l, quantity: changed.get(l.lineId) ?? l.quantity })), ...c.data.added.map((l) => ({ ...l }))];
  const address = c.data.shippingAddress ? changedAddress(s.order.shippingAddress, c.data.shippingAddress) : undefined;
  const after = { ...s.order, lines, ...(address ? { shippingAddress: address } : {}) };
  validateSubmission(after);
  const totals = computeTotals(after);
  const method = c.data.shippingMethod !== undefined ? text('shippingMethod', c.data.shippingMethod, 50) : undefined;
  if (c.data.invoice) text('invoice.title', c.data.invoice.title, 200);
  return {
    type: 'OrderChanged',
    data: {
      orderId: s.orderId,
      approvalId: c.data.approvalId,
      changeRequestId: c.data.changeRequestId,
      lines,
      totals,
      changes: {
        added: c.data.added.map((l) => l.lineId),
        removed: c.data.removed,
        quantities: c.data.quantities.map((q) => ({ lineId: q.lineId, before: current.find((l) => l.lineId === q.lineId)?.quantity ?? 0, after: q.after })),
      },
      priceDifference: totals.grandTotal - s.order.totals.grandTotal,
      ...(c.data.reservationId ? { reservationId: c.data.reservationId } : {}),
      ...(c.data.allocations ? { allocations: c.data.allocations } : {}),
      ...(s.status === 'packed' && s.shipment ? { reopenedShipmentId: s.shipment.shipmentId } : {}),
      ...(address ? { shippingAddress: address } : {}),
      ...(method ? { shippingMethod: method } : {}),
      ...(c.data.invoice ? { invoice: { ...c.data.invoice } } : {}),
      changedAt: c.metadata.now,
    },
  };
}

/** A change's new address over the order's: street, detail and postal code are the change's; recipient and phone stay when it does not give them. */
function changedAddress(current: ExistingOrder['order']['shippingAddress'], p: NonNullable<OrderCommandOf<'ApplyChange'>['data']['shippingAddress']>): ExistingOrder['order']['shippingAddress'] {
  const { postalCode: _old, ...rest } = current;
  return {
    ...rest,
    province: text('shippingAddress.province', p.province, 50),
    city: text('shippingAddress.city', p.city, 50),
    district: text('shippingAddress.district', p.district, 50),
    street: text('shippingAddress.street', p.street, 200),
    detail: p.detail ?? '',
    ...(p.postalCode !== undefined ? { postalCode: p.postalCode } : {}),
    ...(p.recipient !== undefined ? { recipient: text('shippingAddress.recipient', p.recipient, 100) } : {}),
    ...(p.phone !== undefined ? { phone: text('shippingAddress.phone', p.phone, 30) } : {}),
  };
}

function moveTo<S extends OrderStage>(s: ExistingOrder, status: S, at: string) {
  return { ...s, status, stageSince: at, movableSince: at };
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderPlaced') {
    const { order, receivedAt } = event.data;
    const data: OrderData = {
      orderId: order.orderId,
      order,
      hold: null,
      exception: null,
      payment: null,
      reservation: null,
      shortage: null,
      approval: null,
      release: null,
      shipment: null,
      refund: { pending: null, refundedTotal: 0 },
      overriddenHoldRules: [],
      decisions: [],
      stageSince: receivedAt,
      movableSince: receivedAt,
    };
    return { ...data, status: 'placed' };
  }
  const s = existing(state, event);
  switch (event.type) {
    case 'OrderPaid': {
      const { amount, currency, paymentRef, presalePart, paidAt, reportedPaidAt } = event.data;
      const reported = reportedPaidAt !== undefined ? { reportedPaidAt } : {};
      // What an applied change made due, paid: added to the payment wherever the order stands.
      if (event.data.changeRequestId && s.payment) return { ...s, payment: { ...s.payment, amount: s.payment.amount + amount }, paymentDue: null };
      // A presale balance, or a COD payment collected at delivery: recorded where the order stands.
      if (presalePart === 'balance' && s.payment) return { ...s, movableSince: paidAt, payment: { ...s.payment, amount: s.payment.amount + amount, balancePaidAt: paidAt } };
      if (s.status !== 'placed') return { ...s, payment: { amount, currency, ...(paymentRef ? { paymentRef } : {}), paidAt, ...reported } };
      return { ...moveTo(s, 'paid', paidAt), payment: { amount, currency, ...(paymentRef ? { paymentRef } : {}), paidAt, ...reported } };
    }
    case 'OrderStockReserved': {
      const { reservationId, allocations, allLinesReserved, reservedAt } = event.data;
      return { ...moveTo(s, 'stock_reserved', reservedAt), reservation: { reservationId, allocations, allLinesReserved, reservedAt }, shortage: null };
    }
    case 'OrderStockShortage':
      return { ...s, shortage: { missing: event.data.missing, reportedAt: event.data.reportedAt, refusals: (s.shortage?.refusals ?? 0) + 1 } };
    case 'OrderRuleDecided': {
      const { orderId: _o, ...d } = event.data;
      return { ...s, decisions: [...s.decisions, d] };
    }
    case 'OrderApprovalRequired': {
      const { chain, ruleId, ruleSetVersion, requiredAt } = event.data;
      return { ...moveTo(s, 'awaiting_approval', requiredAt), approval: { chain, ruleId, ruleSetVersion, status: 'pending', requiredAt } };
    }
    case 'OrderApproved':
      return s.approval ? { ...s, movableSince: event.data.approvedAt, approval: { ...s.approval, status: 'granted', approvalId: event.data.approvalId } } : s;
    case 'OrderApprovalRejected':
      return s.approval ? { ...s, approval: { ...s.approval, status: 'rejected', approvalId: event.data.approvalId } } : s;
    case 'OrderReadyToShip': {
      const { priority, freeShipping, requiresQc, releasedAt } = event.data;
      return { ...moveTo(s, 'ready_to_ship', releasedAt), release: { priority, freeShipping, requiresQc, releasedAt } };
    }
    case 'OrderPacked': {
      const { shipmentId, waybillNo, packedAt } = event.data;
      return { ...moveTo(s, 'packed', packedAt), shipment: { shipmentId, ...(waybillNo ? { waybillNo } : {}), packedAt } };
    }
    case 'OrderShipped': {
      const { shipmentId, carrier, trackingNumber, shippedAt } = event.data;
      return { ...moveTo(s, 'shipped', shippedAt), shipment: { ...s.shipment, shipmentId, carrier, trackingNumber, shippedAt } };
    }
    case 'OrderDelivered':
      return { ...moveTo(s, 'delivered', event.data.deliveredAt), shipment: s.shipment ? { ...s.shipment, deliveredAt: event.data.deliveredAt } : null };
    case 'OrderArchived':
      return { ...moveTo(s, 'archived', event.data.archivedAt), archivedAt: event.data.archivedAt };
    case 'OrderCancelled': {
      const { reason, stageAtCancel, cancelledAt } = event.data;
      return { ...moveTo(s, 'cancelled', cancelledAt), cancellation: { reason, stageAtCancel, cancelledAt } };
    }
    case 'OrderRefundRequested': {
      const { amount, reason, stageAtRequest, requestedAt } = event.data;
      return { ...s, refund: { ...s.refund, pending: { amount, reason, stageAtRequest, requestedAt } } };
    }
    case 'OrderRefunded': {
      const refund = { pending: null, refundedTotal: s.refund.refundedTotal + event.data.amount };
      // A full refund pays back whatever a change's partial refund owed too.
      const paidBack = s.partialRefund ? { partialRefund: null } : {};
      // Mirrors ORDER_TRANSITIONS: before shipment a refund ends the order; after shipment, or on
      // an already cancelled order, it is only recorded.
      if (s.status !== 'cancelled' && isPreShipment(s.status)) {
        return { ...moveTo(s, 'refunded', event.data.refundedAt), refund, ...paidBack, refundedAt: event.data.refundedAt };
      }
      return { ...s, refund, ...paidBack };
    }
    case 'OrderPutOnHold':
      return { ...s, hold: { reason: event.data.reason, ...(event.data.ruleId ? { ruleId: event.data.ruleId } : {}), since: event.data.heldAt } };
    case 'OrderHoldReleased': {
      const ruleId = s.hold?.ruleId;
      return {
        ...s,
        hold: null,
        movableSince: event.data.releasedAt,
        overriddenHoldRules: ruleId && !s.overriddenHoldRules.includes(ruleId) ? [...s.overriddenHoldRules, ruleId] : s.overriddenHoldRules,
      };
    }
    case 'OrderExceptionFlagged': {
      const { code, reason, details, flaggedAt } = event.data;
      return { ...s, exception: { code, reason, ...(details ? { details } : {}), since: flaggedAt } };
    }
    case 'OrderExceptionResolved':
      return { ...s, exception: null, movableSince: event.data.resolvedAt };
    case 'OrderChanged': {
      const d = event.data;
      const removed = new Set(d.changes.removed);
      // The change's own reservation holds what it adds (a raised quantity as `<lineId>+`): one allocation list for fulfillment.
      const added = (d.allocations ?? []).map((a) => ({ ...a, lineId: a.lineId.endsWith('+') ? a.lineId.slice(0, -1) : a.lineId }));
      const reservation = s.reservation ? { ...s.reservation, allocations: [...s.reservation.allocations.filter((a) => !removed.has(a.lineId)), ...added] } : s.reservation;
      const changed = {
        ...s,
        order: { ...s.order, lines: d.lines, totals: d.totals, ...(d.shippingAddress ? { shippingAddress: d.shippingAddress } : {}) },
        ...(d.shippingMethod ? { shippingMethod: d.shippingMethod } : {}),
        ...(d.invoice ? { invoice: d.invoice } : {}),
        reservation,
        changeRequests: [...(s.changeRequests ?? []), d.changeRequestId],
        ...(d.reservationId ? { changeReservations: [...(s.changeReservations ?? []), d.reservationId] } : {}),
      };
      // Re-opened under a manager override: back to ready_to_ship, the packed parcel is undone.
      return d.reopenedShipmentId ? { ...moveTo(changed, 'ready_to_ship', d.changedAt), shipment: null } : changed;
    }
    case 'OrderChangeRefused':
      return { ...s, changeRequests: [...(s.changeRequests ?? []), event.data.changeRequestId] };
    case 'OrderPaymentDue':
    case 'OrderPartialRefundRequested':
    case 'OrderPartialRefunded':
      return evolvePriceDifference(s, event);
    case 'OrderPiiRevealed':
      // An audit fact: who saw what is the log's business, not the order's state.
      return s;
    default:
      return assertNever(event, 'event');
  }
}
