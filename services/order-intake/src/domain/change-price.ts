import { OrderErrorCode, OrderErrors } from './order.errors';
import type { OrderCommandOf } from './order.commands';
import type { OrderEvent, OrderEventOf } from './order.events';
import { isCod, presaleBalanceDue, type ExistingOrder } from './order.state';

/**
 * The price difference of an applied change request (订单变更), pure. On an order the customer
 * has paid, a change that raises the price makes the difference due (OrderPaymentDue) and holds
 * the order until it is paid; one that lowers it asks finance for a partial refund
 * (OrderPartialRefundRequested), confirmed with the usual refund confirmation (RecordRefunded ->
 * OrderPartialRefunded). A later change first cancels out what an earlier one left open (an unpaid
 * difference or an unconfirmed refund), so the events carry the total open after it (0: cleared).
 *
 * Nothing is due or refunded on an order that is not paid yet (the payment is the new grand
 * total), paid cash on delivery (the carrier collects the new grand total) or a presale order whose
 * balance is still open (the balance is the new grand total less the deposit).
 */

/** The reason of the hold a payment due puts on the order; the payment releases only a hold that starts so. */
export const CHANGE_PAYMENT_HOLD = 'change payment due';

const isChangeHold = (s: ExistingOrder) => !!s.hold && s.hold.reason.startsWith(CHANGE_PAYMENT_HOLD);

/** What follows OrderChanged on a paid order: the difference due or to give back, and the hold while it is due. */
export function priceDifferenceEvents(changed: OrderEventOf<'OrderChanged'>, s: ExistingOrder): OrderEvent[] {
  const diff = changed.data.priceDifference;
  if (diff === 0 || !s.payment || isCod(s) || presaleBalanceDue(s)) return [];
  const { orderId, approvalId, changeRequestId, changedAt: now } = changed.data;
  const ids = { orderId, approvalId, changeRequestId };
  const currency = s.order.totals.currency;
  const due = s.paymentDue?.amount ?? 0;
  const owed = s.partialRefund?.amount ?? 0;
  const events: OrderEvent[] = [];
  let dueAfter = due;
  if (diff > 0) {
    // An unconfirmed refund is given back less first; the rest is due.
    const offset = Math.min(owed, diff);
    if (offset > 0) events.push(refundRequested(ids, owed - offset, diff, currency, now));
    dueAfter = due + diff - offset;
    if (dueAfter !== due) events.push({ type: 'OrderPaymentDue', data: { ...ids, amount: dueAfter, priceDifference: diff, currency, dueAt: now } });
  } else {
    // An unpaid difference is lowered first; the rest is refunded.
    const offset = Math.min(due, -diff);
    dueAfter = due - offset;
    if (offset > 0) events.push({ type: 'OrderPaymentDue', data: { ...ids, amount: dueAfter, priceDifference: diff, currency, dueAt: now } });
    const refund = -diff - offset;
    if (refund > 0) events.push(refundRequested(ids, owed + refund, diff, currency, now));
  }
  if (dueAfter > 0 && !s.hold) {
    events.push({ type: 'OrderPutOnHold', data: { orderId, reason: `${CHANGE_PAYMENT_HOLD}: ${dueAfter} ${currency} minor units for change ${changeRequestId}`, heldAt: now } });
  }
  if (dueAfter === 0 && due > 0 && isChangeHold(s)) {
    events.push({ type: 'OrderHoldReleased', data: { orderId, reason: `change ${changeRequestId} cancelled out the payment due`, releasedAt: now } });
  }
  return events;
}

function refundRequested(ids: { orderId: string; approvalId: string; changeRequestId: string }, amount: number, diff: number, currency: string, now: string): OrderEvent {
  const reason = diff < 0 ? `change ${ids.changeRequestId} lowered the price by ${-diff}` : `change ${ids.changeRequestId} raised the price by ${diff}: less to give back`;
  return { type: 'OrderPartialRefundRequested', data: { ...ids, amount, priceDifference: diff, currency, reason, requestedAt: now } };
}

/** ConfirmPayment of what a change made due: exactly that amount; releases the hold it put on. */
export function confirmChangePayment(c: OrderCommandOf<'ConfirmPayment'>, s: ExistingOrder): OrderEvent[] {
  const due = s.paymentDue;
  if (!due || due.amount <= 0) throw OrderErrors.conflict(OrderErrorCode.BalanceNotDue, 'nothing is due on this order');
  const currency = s.order.totals.currency;
  if (c.data.currency !== currency)
    throw OrderErrors.unprocessable(OrderErrorCode.PaymentCurrencyMismatch, `payment currency ${c.data.currency} differs from the order's ${currency}`, { field: 'currency' });
  if (typeof c.data.amount !== 'number' || c.data.amount !== due.amount)
    throw OrderErrors.unprocessable(OrderErrorCode.PaymentAmountMismatch, `the change ${due.changeRequestId} made ${due.amount} due, not ${String(c.data.amount)}`, {
      field: 'amount',
      paid: c.data.amount,
      due: due.amount,
    });
  const now = c.metadata.now;
  const events: OrderEvent[] = [
    {
      type: 'OrderPaid',
      data: { orderId: s.orderId, amount: due.amount, currency, ...(c.data.paymentRef ? { paymentRef: c.data.paymentRef } : {}), changeRequestId: due.changeRequestId, paidAt: now },
    },
  ];
  if (isChangeHold(s)) events.push({ type: 'OrderHoldReleased', data: { orderId: s.orderId, reason: `change ${due.changeRequestId}: payment received`, releasedAt: now } });
  return events;
}

/** Is the refund finance confirms a change's partial refund (no full refund requested, order not cancelled)? */
export function confirmsPartialRefund(s: ExistingOrder): boolean {
  return !s.refund.pending && s.status !== 'cancelled' && (s.partialRefund?.amount ?? 0) > 0;
}

/** RecordRefunded of a change's partial refund: exactly the amount owed; the stage stays. */
export function partialRefunded(c: OrderCommandOf<'RecordRefunded'>, s: ExistingOrder): OrderEvent[] {
  const owed = s.partialRefund?.amount ?? 0;
  if (c.data.amount !== owed) throw OrderErrors.unprocessable(OrderErrorCode.RefundAmountMismatch, `refunded ${c.data.amount} but ${owed} is owed`, { field: 'amount', owed });
  return [{ type: 'OrderPartialRefunded', data: { orderId: s.orderId, changeRequestId: s.partialRefund?.changeRequestId ?? '', amount: owed, refundedAt: c.metadata.now } }];
}

/** evolve for the price-difference events. */
export function evolvePriceDifference(s: ExistingOrder, e: OrderEventOf<'OrderPaymentDue' | 'OrderPartialRefundRequested' | 'OrderPartialRefunded'>): ExistingOrder {
  switch (e.type) {
    case 'OrderPaymentDue': {
      const { amount, approvalId, changeRequestId, dueAt } = e.data;
      return { ...s, paymentDue: amount > 0 ? { amount, approvalId, changeRequestId, since: dueAt } : null };
    }
    case 'OrderPartialRefundRequested': {
      const { amount, approvalId, changeRequestId, requestedAt } = e.data;
      return { ...s, partialRefund: amount > 0 ? { amount, approvalId, changeRequestId, requestedAt } : null };
    }
    case 'OrderPartialRefunded':
      return { ...s, partialRefund: null, refund: { ...s.refund, refundedTotal: s.refund.refundedTotal + e.data.amount } };
  }
}
