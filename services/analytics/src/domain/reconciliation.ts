/**
 * Settlement reconciliation, per order: what we sold (paid) and refunded, from the event facts,
 * against what the platform settled, refunded and charged in fees, from its settlement files.
 * Pure: orders, entries and fee rates come in; a report with every discrepancy comes out.
 */

export type SettlementPlatform = 'alipay' | 'jd' | 'pdd' | 'douyin';
export const SETTLEMENT_PLATFORMS: readonly SettlementPlatform[] = ['alipay', 'jd', 'pdd', 'douyin'];

/** Which of our channels each platform's file settles (the Alipay bill covers Taobao and Tmall). */
export const PLATFORM_CHANNELS: Record<SettlementPlatform, string[]> = {
  alipay: ['taobao', 'tmall'],
  jd: ['jd'],
  pdd: ['pinduoduo'],
  douyin: ['douyin'],
};

export type EntryKind = 'sale' | 'refund' | 'fee';

/** One money movement of a settlement file, amounts positive in fen. */
export interface SettlementEntry {
  platform: SettlementPlatform;
  channelOrderId: string;
  kind: EntryKind;
  amount: number;
  occurredAt: string;
  /** The file's own name for the line (业务类型 / 费用项 ...), for the report. */
  item: string;
}

export interface SoldOrder {
  orderId: string;
  channel: string;
  channelOrderId: string;
  paidAt: string;
  /** Paid amount, fen. */
  sold: number;
  refunded: number;
}

export type IssueCode = 'missing_settlement' | 'amount_mismatch' | 'fee_mismatch' | 'refund_not_settled' | 'refund_over_settled' | 'unknown_order';

export interface Discrepancy {
  code: IssueCode;
  orderId: string | null;
  channelOrderId: string;
  /** What the facts say, fen. */
  expected: number;
  /** What the platform settled, fen. */
  actual: number;
  difference: number;
}

export interface OrderReconciliation {
  orderId: string;
  channel: string;
  channelOrderId: string;
  sold: number;
  settled: number;
  refunded: number;
  refundSettled: number;
  fees: number;
  expectedFee: number;
  reconciled: boolean;
}

export interface ReconciliationReport {
  platform: SettlementPlatform;
  orders: OrderReconciliation[];
  discrepancies: Discrepancy[];
  /** KPI: orders whose sale, refunds and fees all match. */
  ordersReconciled: number;
  ordersTotal: number;
  reconciledRate: number;
}

export interface ReconciliationPolicy {
  /** Platform fee per channel in basis points of the paid amount (expected fee = round(sold x bps / 10000)). */
  feeRateBps: Record<string, number>;
  /** Differences up to this many fen are rounding, not discrepancies (default 1). */
  toleranceFen?: number;
}

/** Default fee rates (basis points): Alipay's 0.6% service fee on Taobao/Tmall and PDD, 5% JD and Douyin commissions. Configurable (ANALYTICS_FEE_RATES_BPS). */
export const DEFAULT_POLICY: ReconciliationPolicy = { feeRateBps: { taobao: 60, tmall: 60, pinduoduo: 60, jd: 500, douyin: 500 }, toleranceFen: 1 };

export function expectedFee(sold: number, bps: number): number {
  return Math.round((sold * bps) / 10_000);
}

/**
 * Matches `orders` (our paid orders of the platform's channels in the period) with `entries` of
 * their channel order ids; `unknown` are entries of the period whose order we never saw.
 */
export function reconcile(platform: SettlementPlatform, orders: SoldOrder[], entries: SettlementEntry[], unknown: SettlementEntry[], policy: ReconciliationPolicy = DEFAULT_POLICY): ReconciliationReport {
  const tolerance = policy.toleranceFen ?? 1;
  const byOrder = new Map<string, SettlementEntry[]>();
  for (const e of entries) byOrder.set(e.channelOrderId, [...(byOrder.get(e.channelOrderId) ?? []), e]);
  const sum = (es: SettlementEntry[], kind: EntryKind) => es.filter((e) => e.kind === kind).reduce((s, e) => s + e.amount, 0);
  const discrepancies: Discrepancy[] = [];
  const issue = (code: IssueCode, o: { orderId: string | null; channelOrderId: string }, expected: number, actual: number) =>
    discrepancies.push({ code, orderId: o.orderId, channelOrderId: o.channelOrderId, expected, actual, difference: actual - expected });
  const rows = [...orders]
    .sort((a, b) => (a.paidAt < b.paidAt ? -1 : a.paidAt > b.paidAt ? 1 : a.orderId < b.orderId ? -1 : 1))
    .map((o): OrderReconciliation => {
      const es = byOrder.get(o.channelOrderId) ?? [];
      const settled = sum(es, 'sale');
      const refundSettled = sum(es, 'refund');
      const fees = sum(es, 'fee');
      const fee = expectedFee(o.sold, policy.feeRateBps[o.channel] ?? 0);
      const before = discrepancies.length;
      if (es.length === 0) {
        issue('missing_settlement', o, o.sold, 0);
      } else {
        if (Math.abs(settled - o.sold) > tolerance) issue('amount_mismatch', o, o.sold, settled);
        if (Math.abs(fees - fee) > tolerance) issue('fee_mismatch', o, fee, fees);
        if (o.refunded - refundSettled > tolerance) issue('refund_not_settled', o, o.refunded, refundSettled);
        if (refundSettled - o.refunded > tolerance) issue('refund_over_settled', o, o.refunded, refundSettled);
      }
      return { orderId: o.orderId, channel: o.channel, channelOrderId: o.channelOrderId, sold: o.sold, settled, refunded: o.refunded, refundSettled, fees, expectedFee: fee, reconciled: discrepancies.length === before };
    });
  const unknownIds = [...new Set(unknown.map((e) => e.channelOrderId))].sort();
  for (const id of unknownIds) {
    const es = unknown.filter((e) => e.channelOrderId === id);
    issue('unknown_order', { orderId: null, channelOrderId: id }, 0, sum(es, 'sale') - sum(es, 'refund'));
  }
  const ok = rows.filter((r) => r.reconciled).length;
  return { platform, orders: rows, discrepancies, ordersReconciled: ok, ordersTotal: rows.length, reconciledRate: rows.length ? ok / rows.length : 1 };
}
