import type { StockLevels } from '../stock-ledger.decider';
import { atpByChannel, atpChanges, lowStockCrossed, type AvailabilityRules } from './availability.policy';

/**
 * What to announce after a SKU's ledgers changed: the level of each changed warehouse, the ATP of
 * each channel whose value moved, and a low-stock alert when total available crossed the threshold.
 */
export interface SkuChange {
  sku: string;
  /** Every warehouse of the SKU after the change; `before` absent for ledgers that did not change. */
  warehouses: { warehouseId: string; before?: StockLevels; after: StockLevels }[];
  rules: AvailabilityRules;
  /** ATP last published per channel (empty when none was). */
  lastPublishedAtp: Readonly<Record<string, number>>;
}

export interface SkuNotifications {
  levels: { sku: string; warehouseId: string; onHand: number; reserved: number; available: number }[];
  atp: { sku: string; channel: string; atp: number }[];
  lowStock?: { sku: string; available: number; threshold: number };
  totalAvailable: number;
}

function sameLevels(a: StockLevels | undefined, b: StockLevels): boolean {
  return !!a && a.onHand === b.onHand && a.reserved === b.reserved && a.available === b.available;
}

export function skuNotifications(change: SkuChange): SkuNotifications {
  const levels = change.warehouses
    .filter((w) => w.before !== undefined && !sameLevels(w.before, w.after))
    .map((w) => ({ sku: change.sku, warehouseId: w.warehouseId, onHand: w.after.onHand, reserved: w.after.reserved, available: w.after.available }));
  const totalAvailable = change.warehouses.reduce((s, w) => s + w.after.available, 0);
  const totalBefore = change.warehouses.reduce((s, w) => s + (w.before ?? w.after).available, 0);
  const atp = atpChanges(change.lastPublishedAtp, atpByChannel(totalAvailable, change.rules.channels)).map((c) => ({ sku: change.sku, ...c }));
  const threshold = change.rules.lowStockThreshold;
  const crossed = levels.length > 0 && lowStockCrossed(totalBefore, totalAvailable, threshold);
  return {
    levels,
    atp,
    ...(crossed && threshold ? { lowStock: { sku: change.sku, available: totalAvailable, threshold } } : {}),
    totalAvailable,
  };
}
