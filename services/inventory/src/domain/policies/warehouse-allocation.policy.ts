import type { LineAllocation, MissingStock } from '../order-reservation.decider';

/**
 * Which warehouse(s) an order's units come from: a strategy (Vendure-style) with a default.
 * Pure: the caller passes what is available where; the strategy never reads anything itself.
 */

export interface RequestedLine {
  lineId: string;
  sku: string;
  quantity: number;
}

export interface WarehouseRef {
  warehouseId: string;
  /** Lower is preferred. */
  priority: number;
}

export interface AllocationInput {
  lines: readonly RequestedLine[];
  /** Active warehouses, any order. */
  warehouses: readonly WarehouseRef[];
  /** Units of `sku` available to promise in `warehouseId` right now (after safety stock). */
  available(sku: string, warehouseId: string): number;
  /** SKUs configured for backorders are never short; the excess goes to the preferred warehouse. */
  allowBackorder(sku: string): boolean;
}

export type AllocationResult = { kind: 'allocated'; allocations: LineAllocation[] } | { kind: 'shortage'; missing: MissingStock[] };

export interface WarehouseAllocationStrategy {
  readonly name: string;
  allocate(input: AllocationInput): AllocationResult;
}

/** Summed demand per SKU (the same SKU on several lines counts as the sum), in first-seen order. */
export function demandBySku(lines: readonly RequestedLine[]): Map<string, { requested: number; lineIds: string[] }> {
  const demand = new Map<string, { requested: number; lineIds: string[] }>();
  for (const l of lines) {
    const d = demand.get(l.sku) ?? { requested: 0, lineIds: [] };
    d.requested += l.quantity;
    d.lineIds.push(l.lineId);
    demand.set(l.sku, d);
  }
  return demand;
}

export function byPriority(warehouses: readonly WarehouseRef[]): WarehouseRef[] {
  return [...warehouses].sort((a, b) => a.priority - b.priority || (a.warehouseId < b.warehouseId ? -1 : a.warehouseId > b.warehouseId ? 1 : 0));
}

function totalAvailable(input: AllocationInput, sku: string): number {
  return input.warehouses.reduce((sum, w) => sum + Math.max(0, input.available(sku, w.warehouseId)), 0);
}

/** Every SKU whose demand exceeds what all warehouses together have (backorder SKUs never miss). */
export function missingAcrossWarehouses(input: AllocationInput): MissingStock[] {
  const missing: MissingStock[] = [];
  for (const [sku, d] of demandBySku(input.lines)) {
    const available = totalAvailable(input, sku);
    if (d.requested > available && !input.allowBackorder(sku)) missing.push({ sku, requested: d.requested, available, lineIds: d.lineIds });
  }
  return missing;
}

/** The first warehouse (by priority) that alone covers every SKU of the order, if any. */
export function singleWarehouseFor(input: AllocationInput): WarehouseRef | undefined {
  const demand = demandBySku(input.lines);
  return byPriority(input.warehouses).find((w) => [...demand].every(([sku, d]) => input.available(sku, w.warehouseId) >= d.requested));
}

function allInOne(lines: readonly RequestedLine[], warehouseId: string): LineAllocation[] {
  return lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId, quantity: l.quantity }));
}

/** Fills each line from warehouses in priority order; a backorder SKU's excess goes to the preferred warehouse. */
export function splitByPriority(input: AllocationInput): LineAllocation[] {
  const ordered = byPriority(input.warehouses);
  const remaining = new Map<string, number>();
  const left = (sku: string, wh: string) => remaining.get(`${sku}@${wh}`) ?? Math.max(0, input.available(sku, wh));
  const allocations: LineAllocation[] = [];
  for (const line of input.lines) {
    let need = line.quantity;
    for (const w of ordered) {
      if (need === 0) break;
      const take = Math.min(need, left(line.sku, w.warehouseId));
      if (take <= 0) continue;
      remaining.set(`${line.sku}@${w.warehouseId}`, left(line.sku, w.warehouseId) - take);
      allocations.push({ lineId: line.lineId, sku: line.sku, warehouseId: w.warehouseId, quantity: take });
      need -= take;
    }
    if (need > 0 && ordered.length > 0) {
      // Only reachable for backorder SKUs (shortage was checked first): backorder at the preferred warehouse.
      const preferred = ordered[0].warehouseId;
      const same = allocations.find((a) => a.lineId === line.lineId && a.warehouseId === preferred);
      if (same) same.quantity += need;
      else allocations.push({ lineId: line.lineId, sku: line.sku, warehouseId: preferred, quantity: need });
    }
  }
  return allocations;
}

function noWarehouse(input: AllocationInput): AllocationResult {
  return {
    kind: 'shortage',
    missing: [...demandBySku(input.lines)].map(([sku, d]) => ({ sku, requested: d.requested, available: 0, lineIds: d.lineIds })),
  };
}

/** Default: one warehouse that fills the whole order; else split across warehouses by priority. */
export const singleThenSplitByPriority: WarehouseAllocationStrategy = {
  name: 'single-then-split',
  allocate(input) {
    if (input.warehouses.length === 0) return noWarehouse(input);
    const one = singleWarehouseFor(input);
    if (one) return { kind: 'allocated', allocations: allInOne(input.lines, one.warehouseId) };
    const missing = missingAcrossWarehouses(input);
    if (missing.length > 0) return { kind: 'shortage', missing };
    return { kind: 'allocated', allocations: splitByPriority(input) };
  },
};

/** Never split: one warehouse fills the order or it is short (for sellers who refuse split parcels). */
export const singleWarehouseOnly: WarehouseAllocationStrategy = {
  name: 'single-only',
  allocate(input) {
    if (input.warehouses.length === 0) return noWarehouse(input);
    const one = singleWarehouseFor(input);
    if (one) return { kind: 'allocated', allocations: allInOne(input.lines, one.warehouseId) };
    const demand = demandBySku(input.lines);
    // Backorders: the preferred warehouse takes all when the SKUs short there all allow backorder.
    const preferred = byPriority(input.warehouses)[0];
    const shortThere = [...demand].filter(([sku, d]) => input.available(sku, preferred.warehouseId) < d.requested);
    if (shortThere.every(([sku]) => input.allowBackorder(sku))) return { kind: 'allocated', allocations: allInOne(input.lines, preferred.warehouseId) };
    // Report what the best single warehouse lacks.
    const missing: MissingStock[] = [];
    for (const [sku, d] of demand) {
      const best = Math.max(0, ...input.warehouses.map((w) => input.available(sku, w.warehouseId)));
      if (best < d.requested && !input.allowBackorder(sku)) missing.push({ sku, requested: d.requested, available: best, lineIds: d.lineIds });
    }
    if (missing.length === 0) {
      // Each SKU fits somewhere but no warehouse holds them all.
      for (const [sku, d] of demand) {
        missing.push({ sku, requested: d.requested, available: input.available(sku, preferred.warehouseId), lineIds: d.lineIds });
      }
    }
    return { kind: 'shortage', missing };
  },
};

/** Always fill by priority, splitting freely (no preference for a single parcel). */
export const splitByPriorityOnly: WarehouseAllocationStrategy = {
  name: 'split-by-priority',
  allocate(input) {
    if (input.warehouses.length === 0) return noWarehouse(input);
    const missing = missingAcrossWarehouses(input);
    if (missing.length > 0) return { kind: 'shortage', missing };
    return { kind: 'allocated', allocations: splitByPriority(input) };
  },
};

export const ALLOCATION_STRATEGIES: Record<string, WarehouseAllocationStrategy> = {
  [singleThenSplitByPriority.name]: singleThenSplitByPriority,
  [singleWarehouseOnly.name]: singleWarehouseOnly,
  [splitByPriorityOnly.name]: splitByPriorityOnly,
};

export function allocationStrategyNamed(name: string | undefined): WarehouseAllocationStrategy {
  if (!name) return singleThenSplitByPriority;
  const s = ALLOCATION_STRATEGIES[name];
  if (!s) throw new Error(`unknown allocation strategy '${name}' (known: ${Object.keys(ALLOCATION_STRATEGIES).join(', ')})`);
  return s;
}
