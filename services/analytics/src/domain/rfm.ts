/**
 * RFM (recency, frequency, monetary) scoring of customers, keyed by the channel's customer id.
 *
 * - R: whole days from the placing of the customer's last paid order to `asOf` (fewer is better);
 * - F: number of paid orders; M: their net amount in fen (paid - refunded) (more is better).
 * Each is scored 1-5 by rank among the customers: `1 + floor(5 * worse / n)`, where `worse` is how
 * many customers have a strictly worse value (ties share a score; the best of n distinct values
 * gets 5, the worst 1). Segments are the first matching row of {@link RFM_SEGMENTS}.
 */
export interface CustomerOrder {
  customerKey: string;
  placedAt: string;
  /** Net of refunds, fen. */
  net: number;
}

export interface RfmRow {
  customerKey: string;
  recencyDays: number;
  frequency: number;
  monetary: number;
  r: number;
  f: number;
  m: number;
  segment: RfmSegment;
}

export type RfmSegment = 'champions' | 'at_risk' | 'loyal' | 'new_customers' | 'hibernating' | 'needs_attention';

/** The segment rules as data, first match wins (scores 1-5). */
export const RFM_SEGMENTS: { segment: RfmSegment; when: (s: { r: number; f: number; m: number }) => boolean; meaning: string }[] = [
  { segment: 'champions', when: (s) => s.r >= 4 && s.f >= 4 && s.m >= 4, meaning: 'bought recently, often and much' },
  { segment: 'at_risk', when: (s) => s.r <= 2 && (s.f >= 3 || s.m >= 4), meaning: 'valuable, but not seen for a while' },
  { segment: 'loyal', when: (s) => s.f >= 4 && s.m >= 3, meaning: 'buys often' },
  { segment: 'new_customers', when: (s) => s.r >= 4 && s.f <= 2, meaning: 'first purchases, recently' },
  { segment: 'hibernating', when: (s) => s.r <= 2, meaning: 'long gone, little value' },
  { segment: 'needs_attention', when: () => true, meaning: 'average on every axis' },
];

const DAY = 86_400_000;

/** Rank score 1-5: `better(a, b)` true when a is strictly better than b. */
function scores(values: number[], better: (a: number, b: number) => boolean): number[] {
  const n = values.length;
  return values.map((v) => Math.min(5, 1 + Math.floor((5 * values.filter((w) => better(v, w)).length) / n)));
}

export function rfm(orders: CustomerOrder[], asOf: string): RfmRow[] {
  const at = Date.parse(asOf);
  const by = new Map<string, { last: number; frequency: number; monetary: number }>();
  for (const o of orders) {
    const t = Date.parse(o.placedAt);
    const c = by.get(o.customerKey) ?? { last: -Infinity, frequency: 0, monetary: 0 };
    by.set(o.customerKey, { last: Math.max(c.last, t), frequency: c.frequency + 1, monetary: c.monetary + o.net });
  }
  const keys = [...by.keys()].sort();
  const rows = keys.map((k) => {
    const c = by.get(k) as { last: number; frequency: number; monetary: number };
    return { customerKey: k, recencyDays: Math.floor((at - c.last) / DAY), frequency: c.frequency, monetary: c.monetary };
  });
  const r = scores(rows.map((x) => x.recencyDays), (a, b) => a < b);
  const f = scores(rows.map((x) => x.frequency), (a, b) => a > b);
  const m = scores(rows.map((x) => x.monetary), (a, b) => a > b);
  return rows.map((x, i) => {
    const s = { r: r[i], f: f[i], m: m[i] };
    const segment = (RFM_SEGMENTS.find((seg) => seg.when(s)) ?? RFM_SEGMENTS[RFM_SEGMENTS.length - 1]).segment;
    return { ...x, ...s, segment };
  });
}
