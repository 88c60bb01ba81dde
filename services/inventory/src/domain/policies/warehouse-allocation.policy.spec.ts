import { describe, expect, it } from 'vitest';
import {
  allocationStrategyNamed,
  demandBySku,
  singleThenSplitByPriority,
  singleWarehouseOnly,
  splitByPriorityOnly,
  type AllocationInput,
  type RequestedLine,
} from './warehouse-allocation.policy';

const warehouses = [
  { warehouseId: 'WH-GZ', priority: 2 },
  { warehouseId: 'WH-SH', priority: 1 },
  { warehouseId: 'WH-BJ', priority: 3 },
];

function input(lines: RequestedLine[], stock: Record<string, number>, backorder: string[] = []): AllocationInput {
  return { lines, warehouses, available: (sku, wh) => stock[`${sku}@${wh}`] ?? 0, allowBackorder: (sku) => backorder.includes(sku) };
}

const tea = (lineId: string, quantity: number): RequestedLine => ({ lineId, sku: 'TEA', quantity });
const cup = (lineId: string, quantity: number): RequestedLine => ({ lineId, sku: 'CUP', quantity });

describe('default allocation: one warehouse that fills the order, else split by priority', () => {
  it('picks the preferred warehouse when it fills the whole order', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 2), cup('2', 1)], { 'TEA@WH-SH': 5, 'CUP@WH-SH': 1, 'TEA@WH-GZ': 9, 'CUP@WH-GZ': 9 }));
    expect(r).toEqual({ kind: 'allocated', allocations: [
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 2 },
      { lineId: '2', sku: 'CUP', warehouseId: 'WH-SH', quantity: 1 },
    ] });
  });

  it('prefers a lower-priority warehouse that fills everything over splitting', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 2), cup('2', 1)], { 'TEA@WH-SH': 5, 'CUP@WH-BJ': 1, 'TEA@WH-BJ': 2 }));
    expect(r.kind === 'allocated' && r.allocations.every((a) => a.warehouseId === 'WH-BJ')).toBe(true);
  });

  it('splits by priority when no single warehouse fills the order', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 7)], { 'TEA@WH-SH': 3, 'TEA@WH-GZ': 2, 'TEA@WH-BJ': 10 }));
    // WH-BJ alone has 10 >= 7: one parcel wins.
    expect(r).toEqual({ kind: 'allocated', allocations: [{ lineId: '1', sku: 'TEA', warehouseId: 'WH-BJ', quantity: 7 }] });
    const split = singleThenSplitByPriority.allocate(input([tea('1', 7)], { 'TEA@WH-SH': 3, 'TEA@WH-GZ': 2, 'TEA@WH-BJ': 4 }));
    expect(split).toEqual({ kind: 'allocated', allocations: [
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 3 },
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-GZ', quantity: 2 },
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-BJ', quantity: 2 },
    ] });
  });

  it('checks the same SKU on several lines against the sum', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 3), tea('2', 3)], { 'TEA@WH-SH': 5 }));
    expect(r).toEqual({ kind: 'shortage', missing: [{ sku: 'TEA', requested: 6, available: 5, lineIds: ['1', '2'] }] });
    expect(demandBySku([tea('1', 3), cup('2', 1), tea('3', 3)]).get('TEA')).toEqual({ requested: 6, lineIds: ['1', '3'] });
  });

  it('reports every SKU that is short, with totals over all warehouses', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 3), cup('2', 4)], { 'TEA@WH-SH': 1, 'TEA@WH-GZ': 1, 'CUP@WH-BJ': 2 }));
    expect(r).toEqual({ kind: 'shortage', missing: [
      { sku: 'TEA', requested: 3, available: 2, lineIds: ['1'] },
      { sku: 'CUP', requested: 4, available: 2, lineIds: ['2'] },
    ] });
  });

  it('never reports a backorder SKU short; the excess goes to the preferred warehouse', () => {
    const r = singleThenSplitByPriority.allocate(input([tea('1', 5)], { 'TEA@WH-GZ': 2 }, ['TEA']));
    expect(r).toEqual({ kind: 'allocated', allocations: [
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-GZ', quantity: 2 },
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 3 },
    ] });
  });

  it('is short of everything without warehouses', () => {
    expect(singleThenSplitByPriority.allocate({ ...input([tea('1', 1)], {}), warehouses: [] }).kind).toBe('shortage');
  });
});

describe('other strategies', () => {
  it('single-only refuses to split', () => {
    const r = singleWarehouseOnly.allocate(input([tea('1', 4)], { 'TEA@WH-SH': 3, 'TEA@WH-GZ': 3 }));
    expect(r).toEqual({ kind: 'shortage', missing: [{ sku: 'TEA', requested: 4, available: 3, lineIds: ['1'] }] });
  });

  it('split-by-priority fills from the preferred warehouse first even when another could take it all', () => {
    const r = splitByPriorityOnly.allocate(input([tea('1', 4)], { 'TEA@WH-SH': 1, 'TEA@WH-GZ': 10 }));
    expect(r).toEqual({ kind: 'allocated', allocations: [
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-SH', quantity: 1 },
      { lineId: '1', sku: 'TEA', warehouseId: 'WH-GZ', quantity: 3 },
    ] });
  });

  it('is chosen by name, with the default when none is configured', () => {
    expect(allocationStrategyNamed(undefined).name).toBe('single-then-split');
    expect(allocationStrategyNamed('single-only')).toBe(singleWarehouseOnly);
    expect(() => allocationStrategyNamed('nearest')).toThrow(/unknown allocation strategy/);
  });
});
