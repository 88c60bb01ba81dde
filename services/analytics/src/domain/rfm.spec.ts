import { describe, expect, it } from 'vitest';
import { rfm } from './rfm';

// Five customers, asOf 2026-07-01T00:00Z. Hand computation:
//          last paid    R    F  M (net fen)   rank-scores r f m   segment
//   A      06-30        1    3  60000          5 4 4              champions
//   B      06-29        2    1   5000          4 1 2              new_customers
//   C      05-20       42    4 130000          2 5 5              at_risk
//   D      03-01      122    1   1000          1 1 1              hibernating
//   E      06-25        6    2  13000          3 3 3              needs_attention
// score = 1 + floor(5 * (customers strictly worse) / 5).
const o = (customerKey: string, day: string, net: number) => ({ customerKey, placedAt: `${day}T00:00:00.000Z`, net });
const ORDERS = [
  o('tb:A', '2026-06-30', 10000), o('tb:A', '2026-06-20', 20000), o('tb:A', '2026-06-10', 30000),
  o('jd:B', '2026-06-29', 5000),
  o('tb:C', '2026-05-01', 40000), o('tb:C', '2026-05-10', 40000), o('tb:C', '2026-05-20', 40000), o('tb:C', '2026-04-01', 10000),
  o('pdd:D', '2026-03-01', 1000),
  o('dy:E', '2026-06-25', 8000), o('dy:E', '2026-06-15', 5000), // 8000 paid, 3000 refunded
];

describe('RFM', () => {
  it('scores recency, frequency and net amount by rank and segments customers as the hand computation says', () => {
    const rows = rfm(ORDERS, '2026-07-01T00:00:00.000Z');
    const pick = (k: string) => rows.find((r) => r.customerKey === k);
    expect(pick('tb:A')).toEqual({ customerKey: 'tb:A', recencyDays: 1, frequency: 3, monetary: 60000, r: 5, f: 4, m: 4, segment: 'champions' });
    expect(pick('jd:B')).toEqual({ customerKey: 'jd:B', recencyDays: 2, frequency: 1, monetary: 5000, r: 4, f: 1, m: 2, segment: 'new_customers' });
    expect(pick('tb:C')).toEqual({ customerKey: 'tb:C', recencyDays: 42, frequency: 4, monetary: 130000, r: 2, f: 5, m: 5, segment: 'at_risk' });
    expect(pick('pdd:D')).toEqual({ customerKey: 'pdd:D', recencyDays: 122, frequency: 1, monetary: 1000, r: 1, f: 1, m: 1, segment: 'hibernating' });
    expect(pick('dy:E')).toEqual({ customerKey: 'dy:E', recencyDays: 6, frequency: 2, monetary: 13000, r: 3, f: 3, m: 3, segment: 'needs_attention' });
    expect(rows).toHaveLength(5);
  });

  it('gives tied values the same score', () => {
    const rows = rfm([o('a', '2026-06-01', 100), o('b', '2026-06-01', 100)], '2026-06-02T00:00:00.000Z');
    expect(rows.map((r) => [r.r, r.f, r.m])).toEqual([[1, 1, 1], [1, 1, 1]]);
  });
});
