import type { ChannelOrderDraft } from '../import/map-orders';

/** Steps channel-gateway has applied to an order through order-intake's command API. */
export const SYNC_STEPS = ['placed', 'held', 'depositPaid', 'paid', 'cancelled', 'refundRequested', 'refunded'] as const;
export type SyncStep = (typeof SYNC_STEPS)[number];

/**
 * What the import history saw of the platform's locks (JD 锁定), kept beside the applied steps: lock
 * episode n held (`lock:n:held`), the order seen unlocked after it (`lock:n:released`). A lock is
 * held once per episode: the same locked export again is a duplicate, a new lock after the order
 * was seen unlocked (the buyer asks to cancel again) is the next episode and holds again.
 */
export type LockMark = `lock:${number}:held` | `lock:${number}:released`;
/** A step applied through order-intake, or a lock mark (channel_orders.applied_steps). */
export type AppliedStep = SyncStep | LockMark;

export type SyncAction =
  | { step: 'placed' }
  /** `lockEpisode`: the platform lock (JD 锁定) episode this hold is for (lockEpisodeOf); its own Idempotency-Key. */
  | { step: 'held'; reason: string; lockEpisode?: number }
  /** `paidAt`: when the buyer paid, per the platform (its pay time), when it says so. */
  | { step: 'depositPaid'; amount: number; paymentRef: string; paidAt?: string }
  | { step: 'paid'; amount: number; paymentRef: string; paidAt?: string }
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
 * - 售后 refund requested -> RequestRefund; refunded -> RecordRefunded too;
 * - shipped or completed on the platform before Flowline recorded a payment for it (a history
 *   export, a shop's first pull, an order imported unpaid that the seller shipped elsewhere): the
 *   goods left outside Flowline, so the order is put on hold with the platform's tracking number
 *   instead of joining the shipping queue a second time; a person releases or closes it;
 * - closed after payment *and* after it shipped (a tracking number or a ship time: refunded after
 *   shipment, Taobao 交易关闭 with 退款金额 = paid): the same hold first, so the payment recorded next
 *   reserves nothing and the order never joins the shipping queue, then the refund; the order ends
 *   refunded, its hold saying it left outside Flowline and was refunded.
 * - held by the platform (JD 锁定, `on_hold`): put on hold for a person, never cancelled or refunded
 *   on that status alone;
 * Steps already applied are not repeated; a step the flow has gone past is never undone (a platform
 * status that moves back from a cancel or a refund is reported: reopenedAfterTerminal).
 */
function paidAtOf(paidAt: string | null): { paidAt?: string } {
  return paidAt ? { paidAt } : {};
}

export function planSync(draft: ChannelOrderDraft, applied: ReadonlySet<AppliedStep>): SyncAction[] {
  const done = (a: SyncAction) => (a.step === 'held' && a.lockEpisode !== undefined ? lockHeld(applied, a.lockEpisode) : applied.has(a.step));
  // Group-buy (拼团): the order enters the flow only once its group has formed; a failed group never does.
  if (draft.state === 'group_forming' || draft.state === 'group_failed') return [];
  const wanted: SyncAction[] = [{ step: 'placed' }];
  const why = `${draft.channel} ${draft.platformStatus}`;
  // Until the hold is recorded (a failed call is planned again), and only while Flowline cannot
  // have shipped the order itself: no payment recorded yet (the flow ships nothing unpaid), or, for
  // cash on delivery (shipped unpaid by the flow), not placed yet.
  const flowMayHaveShipped = draft.paymentMethod === 'cod' ? applied.has('placed') : applied.has('paid');
  const closedAfterShipment = isClosedAfterShipment(draft);
  if ((draft.state === 'shipped' || draft.state === 'completed' || closedAfterShipment) && !applied.has('held') && !flowMayHaveShipped)
    wanted.push({ step: 'held', reason: closedAfterShipment ? closedAfterShipmentReason(draft) : shippedOutsideReason(draft) });
  // Identical item rows nothing confirmed: held before it can ship twice what the buyer bought once.
  else if (draft.unconfirmedRepeatRows?.length && !applied.has('held') && !flowMayHaveShipped) wanted.push({ step: 'held', reason: repeatedRowsReason(draft) });
  // Held by the platform (JD 锁定: a cancellation request or a review pending): stopped for a person
  // wherever the order is, nothing refunded; the platform's next status says how it ended. Once per
  // lock episode: locked again after it was seen unlocked, it is held again.
  else if (draft.state === 'on_hold' && !lockHeld(applied, lockEpisodeOf(applied))) wanted.push({ step: 'held', reason: platformHoldReason(draft), lockEpisode: lockEpisodeOf(applied) });
  const ref = `${draft.channel}:${draft.channelOrderId}`;
  // Cash on delivery (货到付款): the flow ships it unpaid and records the payment at delivery itself.
  if (draft.paymentMethod === 'cod') {
    if (draft.state === 'closed' && !applied.has('paid')) wanted.push({ step: 'cancelled', reason: `platform closed the COD order (${why})` });
    return wanted.filter((a) => !done(a));
  }
  // Presale (预售): the deposit (定金) first, then the balance (尾款) as the `paid` step.
  const deposit = draft.presale?.depositAmount ?? 0;
  const depositIn = deposit > 0 && (draft.state === 'deposit_paid' || applied.has('depositPaid'));
  if (draft.state === 'deposit_paid' && !applied.has('depositPaid')) wanted.push({ step: 'depositPaid', amount: deposit, paymentRef: `${ref}:deposit`, ...paidAtOf(draft.paidAt) });
  // A payment already recorded in the flow counts too (e.g. a profile fix re-maps a wrongly paid order): money in means refund, not cancel.
  // A presale order's payment time may be its deposit's: only its status says the balance is in.
  const paidOnPlatform = (!draft.presale && draft.paidAt !== null) || draft.state === 'paid' || draft.state === 'shipped' || draft.state === 'completed' || applied.has('paid');
  if (paidOnPlatform && !applied.has('paid'))
    // The platform's pay time is the whole payment's, not a presale balance's (it may be the deposit's).
    wanted.push({ step: 'paid', amount: depositIn ? draft.money.paid - deposit : draft.money.paid, paymentRef: depositIn ? `${ref}:balance` : ref, ...(draft.presale ? {} : paidAtOf(draft.paidAt)) });
  if (draft.state === 'closed' && depositIn && !paidOnPlatform) {
    // Balance never paid: the platform closed it; the deposit (in the flow) is owed back or forfeited by a person.
    wanted.push({ step: 'cancelled', reason: `platform closed the presale order, balance unpaid (${why})` });
    return wanted.filter((a) => !done(a));
  }
  if (draft.state === 'closed' && !paidOnPlatform) wanted.push({ step: 'cancelled', reason: `platform closed the unpaid order (${why})` });
  const closedAfterPayment = draft.state === 'closed' && paidOnPlatform;
  if (paidOnPlatform && (closedAfterPayment || draft.afterSales !== 'none')) {
    const amount = closedAfterPayment || draft.money.refund <= 0 ? draft.money.paid : Math.min(draft.money.refund, draft.money.paid);
    if (amount > 0) {
      const closedWhy = closedAfterShipment ? `platform closed the order after shipment, refunded (${why}${parcelOf(draft, ', ')})` : `platform closed the paid order (${why})`;
      wanted.push({ step: 'refundRequested', amount, reason: closedAfterPayment ? closedWhy : `platform after-sales refund (${why})` });
      if (closedAfterPayment || draft.afterSales === 'refunded') wanted.push({ step: 'refunded', amount });
    }
  }
  return wanted.filter((a) => !done(a));
}

/** The platform lock episode an order is in: one more than the locks it was seen released from. */
export function lockEpisodeOf(applied: ReadonlySet<AppliedStep>): number {
  let released = 0;
  while (applied.has(`lock:${released + 1}:released`)) released += 1;
  return released + 1;
}

/**
 * Is lock episode `n` held? The first episode also by a hold recorded before lock episodes were
 * counted (or by any earlier hold: the order was on hold when it first showed locked).
 */
function lockHeld(applied: ReadonlySet<AppliedStep>, n: number): boolean {
  return applied.has(`lock:${n}:held`) || (n === 1 && applied.has('held'));
}

/**
 * What the platform's view adds to the lock history with no command: the current lock episode seen
 * released (any status but locked, after its hold), so the next lock is a new episode; a hold
 * recorded before episodes were counted, taken as the first episode's when the order shows locked.
 */
export function lockMarksSeen(draft: ChannelOrderDraft, applied: ReadonlySet<AppliedStep>): LockMark[] {
  const n = lockEpisodeOf(applied);
  if (draft.state === 'on_hold') return n === 1 && applied.has('held') && !applied.has('lock:1:held') ? ['lock:1:held'] : [];
  return applied.has(`lock:${n}:held`) ? [`lock:${n}:released`] : [];
}

/**
 * Closed on the platform after it was paid and shipped: a tracking number or a ship time on a closed,
 * paid (online, not presale) order. Cash on delivery and presale keep their own closing rules.
 */
export function isClosedAfterShipment(draft: ChannelOrderDraft): boolean {
  return draft.state === 'closed' && draft.paymentMethod !== 'cod' && !draft.presale && draft.paidAt !== null && (!!draft.trackingNo || !!draft.shippedAt);
}

const parcelOf = (draft: ChannelOrderDraft, sep: string) => {
  const parcel = [draft.carrier, draft.trackingNo].filter(Boolean).join(' ');
  return parcel ? `${sep}${parcel}` : '';
};
const yuanText = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

/** Why an order first seen closed after shipment is held: shipped outside Flowline, then refunded on the platform. */
export function closedAfterShipmentReason(draft: ChannelOrderDraft): string {
  const refund = draft.money.refund > 0 ? draft.money.refund : draft.money.paid;
  return `平台显示发货后已关闭并退款（${draft.platformStatus}${parcelOf(draft, '，')}，退款 ${yuanText(refund)} 元），在 Flowline 之外发出，请勿发货，退回的包裹按退货处理 / closed and refunded on the platform after it shipped outside Flowline (${draft.channel} ${draft.platformStatus}${parcelOf(draft, ', ')}, refunded ${yuanText(refund)}): do not ship; a parcel coming back is a return`.slice(0, 500);
}

/** Why an order the platform holds (JD 锁定) is put on hold: its status, in Chinese and English. */
export function platformHoldReason(draft: ChannelOrderDraft): string {
  return `平台已锁定该订单（${draft.platformStatus}：取消申请或审核处理中），请勿发货，等待平台结果后人工放行或取消 / the platform holds the order (${draft.channel} ${draft.platformStatus}: a cancellation request or a review is pending): do not ship; release or cancel it once the platform decides`.slice(0, 500);
}

/**
 * A platform status that moves an order back from an end the flow already recorded (cancelled, or
 * closed and refunded) to a live one (paid, shipped ...): the flow never undoes a cancel or a refund,
 * so the change is not applied, and it is not a duplicate either: a person must look (the platform
 * reopened it, or a lock was taken for a close). The reason, or null when it is no such move.
 */
export function reopenedAfterTerminal(draft: ChannelOrderDraft, applied: ReadonlySet<AppliedStep>): string | null {
  const ended = applied.has('cancelled') ? 'cancelled' : applied.has('refunded') && draft.afterSales !== 'refunded' ? 'refunded' : null;
  if (!ended || draft.state === 'closed' || draft.state === 'group_forming' || draft.state === 'group_failed') return null;
  return `平台状态变回 ${draft.platformStatus}，但订单在 Flowline 中已${ended === 'cancelled' ? '取消' : '退款'}：未应用，请人工核对 / the platform shows ${draft.channel} ${draft.platformStatus} again after the order was ${ended} in Flowline: not applied, a person must check`.slice(0, 500);
}

/** Why an order with unconfirmed identical item rows is held: the rows, in Chinese and English. */
export function repeatedRowsReason(draft: ChannelOrderDraft): string {
  const rows = draft.unconfirmedRepeatRows ?? [];
  return `宝贝报表第 ${rows.join('、')} 行与同一订单的前一行完全相同，订单报表无宝贝总数量可核对，实付金额也不含这些行：可能是重复导出，请核对数量后再放行 / item rows ${rows.join(', ')} repeat an earlier row of the order exactly; the order file has no total units to check them against and the amount paid does not cover them: possibly a doubled export, check the quantities before releasing`.slice(0, 500);
}

/** Why an order first seen shipped is held: the platform's status and parcel, in Chinese and English. */
export function shippedOutsideReason(draft: ChannelOrderDraft): string {
  const parcel = [draft.carrier, draft.trackingNo].filter(Boolean).join(' ');
  return `平台显示已发货（${draft.platformStatus}${parcel ? `，${parcel}` : ''}），在 Flowline 之外发出，请勿重复发货 / shipped on the platform before Flowline saw it (${draft.channel} ${draft.platformStatus}${parcel ? `, ${parcel}` : ''}): do not ship again`.slice(0, 500);
}
