import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY, generateHistory, unitsPerSku } from '../src/demo/history';

describe('demo history generator (src/demo/history.ts, written by scripts/demo-history.ts)', () => {
  const history = generateHistory();

  it('is reproducible: the same seed gives byte-identical orders, another seed others', () => {
    expect(JSON.stringify(generateHistory())).toBe(JSON.stringify(history));
    expect(JSON.stringify(generateHistory({ ...DEFAULT_HISTORY, seed: 20 }))).not.toBe(JSON.stringify(history));
  });

  it('covers six months up to the demo day, with unique channel order ids', () => {
    expect(history.length).toBeGreaterThan(1500);
    const beijingDay = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10);
    expect(beijingDay(history[0].order.placedAt)).toBe('2025-05-27'); // 182 days to 2025-11-24
    expect(beijingDay(history[history.length - 1].order.placedAt)).toBe('2025-11-24');
    const ids = history.map((h) => `${h.order.channel}:${h.order.channelOrderId}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has what the analytics need to show: weekend and 11.11 peaks, repeat customers, SKUs bought together, refunds', () => {
    const perDay = new Map<string, number>();
    for (const h of history) {
      const day = new Date(Date.parse(h.order.placedAt) + 8 * 3_600_000).toISOString().slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const mean = history.length / perDay.size;
    expect(perDay.get('2025-11-11')).toBeGreaterThan(3 * mean);
    const customers = new Map<string, number>();
    for (const h of history) customers.set(h.order.customer.channelCustomerId ?? '', (customers.get(h.order.customer.channelCustomerId ?? '') ?? 0) + 1);
    expect([...customers.values()].filter((n) => n >= 2).length).toBeGreaterThan(100);
    expect(history.filter((h) => h.order.lines.length === 2).length).toBeGreaterThan(200);
    const refunds = history.filter((h) => h.refund).length / history.length;
    expect(refunds).toBeGreaterThan(0.01);
    expect(refunds).toBeLessThan(0.06);
    expect(unitsPerSku(history).get('TEA-LJ-250')).toBeGreaterThan(500);
  });
});
