import { describe, expect, it } from 'vitest';
import { planRestock } from './restock';

const order = (orderId: string, ...missing: [string, number][]) => ({ orderId, missing: missing.map(([sku, requested]) => ({ sku, requested })) });

describe('planRestock: which waiting orders a restock can serve', () => {
  it('serves the longest waiting first, as far as the units go', () => {
    expect(planRestock([order('o1', ['A', 2]), order('o2', ['A', 2]), order('o3', ['A', 1])], { A: 4 })).toEqual(['o1', 'o2']);
    expect(planRestock([order('o1', ['A', 2]), order('o2', ['A', 2])], { A: 0 })).toEqual([]);
  });

  it('passes over an order too large for what is left and serves the smaller ones after it', () => {
    expect(planRestock([order('big', ['A', 10]), order('o2', ['A', 2]), order('o3', ['A', 3])], { A: 5 })).toEqual(['o2', 'o3']);
  });

  it('an order short of two SKUs is served only when both fit, and takes from both', () => {
    const waiting = [order('ab', ['A', 1], ['B', 2]), order('a', ['A', 1]), order('b', ['B', 1])];
    expect(planRestock(waiting, { A: 5 })).toEqual(['a']);
    expect(planRestock(waiting, { A: 2, B: 2 })).toEqual(['ab', 'a']);
  });

  it('adds up one SKU over several short lines of an order', () => {
    expect(planRestock([order('o1', ['A', 2], ['A', 2]), order('o2', ['A', 3])], { A: 3 })).toEqual(['o2']);
  });

  it('never serves an order with no short lines', () => {
    expect(planRestock([order('none')], { A: 10 })).toEqual([]);
  });
});
