import { describe, expect, it } from 'vitest';
import { reconcile, type SettlementEntry, type SoldOrder } from './reconciliation';

const order = (n: number, sold: number, refunded = 0): SoldOrder => ({ orderId: `o${n}`, channel: 'taobao', channelOrderId: `TB${n}`, paidAt: `2026-06-01T0${n}:00:00.000Z`, sold, refunded });
const entry = (n: number, kind: SettlementEntry['kind'], amount: number): SettlementEntry => ({ platform: 'alipay', channelOrderId: `TB${n}`, kind, amount, occurredAt: '2026-06-02 10:00:00', item: kind });

describe('reconciliation per order: sold vs settled vs refunded vs fees', () => {
  it('reports exactly the three seeded discrepancies (missing settlement, fee mismatch, refund not settled)', () => {
    const orders = [order(1, 12800), order(2, 9900), order(3, 10000), order(4, 5000, 5000), order(5, 8000, 2000)];
    const entries = [
      entry(1, 'sale', 12800), entry(1, 'fee', 77), // 0.6% of 12800 = 76.8 -> 77
      // o2: nothing settled
      entry(3, 'sale', 10000), entry(3, 'fee', 500), // expected 60
      entry(4, 'sale', 5000), entry(4, 'fee', 30), // refund of 5000 never settled
      entry(5, 'sale', 8000), entry(5, 'fee', 48), entry(5, 'refund', 2000),
    ];
    const r = reconcile('alipay', orders, entries, []);
    expect(r.discrepancies).toEqual([
      { code: 'missing_settlement', orderId: 'o2', channelOrderId: 'TB2', expected: 9900, actual: 0, difference: -9900 },
      { code: 'fee_mismatch', orderId: 'o3', channelOrderId: 'TB3', expected: 60, actual: 500, difference: 440 },
      { code: 'refund_not_settled', orderId: 'o4', channelOrderId: 'TB4', expected: 5000, actual: 0, difference: -5000 },
    ]);
    expect(r.orders.map((o) => [o.orderId, o.reconciled])).toEqual([['o1', true], ['o2', false], ['o3', false], ['o4', false], ['o5', true]]);
    expect({ ok: r.ordersReconciled, total: r.ordersTotal, rate: r.reconciledRate }).toEqual({ ok: 2, total: 5, rate: 0.4 });
  });

  it('flags a settled amount that differs, an over-settled refund and entries of orders we never sold', () => {
    const r = reconcile('alipay', [order(1, 1000), order(2, 1000)], [entry(1, 'sale', 900), entry(1, 'fee', 6), entry(2, 'sale', 1000), entry(2, 'fee', 6), entry(2, 'refund', 300)], [entry(9, 'sale', 4200)]);
    expect(r.discrepancies.map((d) => [d.code, d.channelOrderId, d.difference])).toEqual([['amount_mismatch', 'TB1', -100], ['refund_over_settled', 'TB2', 300], ['unknown_order', 'TB9', 4200]]);
  });

  it('treats a one-fen difference as rounding', () => {
    const r = reconcile('alipay', [order(1, 1000)], [entry(1, 'sale', 1000), entry(1, 'fee', 5)], []);
    expect(r.discrepancies).toEqual([]);
  });
});
