import type { ChannelOrderDraft } from '../import/map-orders';

/** Steps channel-gateway has applied to an order through order-intake's command API. */
export const SYNC_STEPS = ['placed', 'paid', 'cancelled', 'refundRequested', 'refunded'] as const;
export type SyncStep = (typeof SYNC_STEPS)[number];

export type SyncAction =
  | { step: 'placed' }
  | { step: 'paid'; amount: number; paymentRef: string }
  | { step: 'cancelled'; reason: string }
  | { step: 'refundRequested'; amount: number; reason: string }
  | { step: 'refunded'; amount: number };

/**
 * What the platform's view of an order asks of the order flow, given what was already applied.
 * Pure (event -> commands): the platform is the source of truth for payment, closing and refunds.
 *
 * - paid on the platform (a payment time, or a paid / shipped / completed status) -> ConfirmPayment;
 * - 已关闭 / TRADE_CLOSED before payment -> Cancel;
 * - closed after payment -> RequestRefund + RecordRefunded of what was paid (the platform has given
 *   the money back), which releases the stock before shipment;
 * - 售后 refund requested -> RequestRefund; refunded -> RecordRefunded too.
 * Steps already applied are not repeated; a step the flow has gone past is never undone.
 */
export function planSync(draft: ChannelOrderDraft, applied: ReadonlySet<SyncStep>): SyncAction[] {
  // Group-buy (拼团): the order enters the flow only once its group has formed; a failed group never does.
  if (draft.state === 'group_forming' || draft.state === 'group_failed') return [];
  const wanted: SyncAction[] = [{ step: 'placed' }];
  // A payment already recorded in the flow counts too (e.g. a profile fix re-maps a wrongly paid order): money in means refund, not cancel.
  const paidOnPlatform = draft.paidAt !== null || draft.state === 'paid' || draft.state === 'shipped' || draft.state === 'completed' || applied.has('paid');
  const why = `${draft.channel} ${draft.platformStatus}`;
  if (paidOnPlatform && !applied.has('paid')) wanted.push({ step: 'paid', amount: draft.money.paid, paymentRef: `${draft.channel}:${draft.channelOrderId}` });
  if (draft.state === 'closed' && !paidOnPlatform) wanted.push({ step: 'cancelled', reason: `platform closed the unpaid order (${why})` });
  const closedAfterPayment = draft.state === 'closed' && paidOnPlatform;
  if (paidOnPlatform && (closedAfterPayment || draft.afterSales !== 'none')) {
    const amount = closedAfterPayment || draft.money.refund <= 0 ? draft.money.paid : Math.min(draft.money.refund, draft.money.paid);
    if (amount > 0) {
      wanted.push({ step: 'refundRequested', amount, reason: closedAfterPayment ? `platform closed the paid order (${why})` : `platform after-sales refund (${why})` });
      if (closedAfterPayment || draft.afterSales === 'refunded') wanted.push({ step: 'refunded', amount });
    }
  }
  return wanted.filter((a) => !applied.has(a.step));
}
