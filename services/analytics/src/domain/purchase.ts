import type { NormalQuantile } from './forecast';

/**
 * A purchase suggestion for one SKU in one warehouse:
 *   demand over lead time = sum of the daily forecast over the first `leadTimeDays` days (past the
 *     forecast horizon, its mean per day for each further day);
 *   safety stock = z(service level) x daily forecast error (backtest RMSE) x sqrt(lead time);
 *   need = demand + safety stock - available - inbound;
 *   suggested = need rounded up to whole supplier packs (0 when nothing is needed).
 */
export interface PurchaseInput {
  sku: string;
  warehouseId: string;
  /** Daily demand forecast, from tomorrow. */
  forecast: number[];
  /** Daily forecast error (RMSE of the backtest), units per day. */
  dailyError: number;
  leadTimeDays: number;
  /** Probability of not running out during the lead time, e.g. 0.95. */
  serviceLevel: number;
  available: number;
  inbound: number;
  packSize: number;
}

export interface PurchaseSuggestion {
  sku: string;
  warehouseId: string;
  leadTimeDays: number;
  demandOverLeadTime: number;
  safetyStock: number;
  available: number;
  inbound: number;
  need: number;
  packSize: number;
  packs: number;
  suggestedQuantity: number;
}

export function purchaseSuggestion(i: PurchaseInput, quantile: NormalQuantile): PurchaseSuggestion {
  if (!(i.packSize >= 1) || !(i.leadTimeDays >= 1) || !(i.serviceLevel > 0 && i.serviceLevel < 1)) throw new Error('packSize >= 1, leadTimeDays >= 1 and 0 < serviceLevel < 1 are required');
  const within = i.forecast.slice(0, i.leadTimeDays);
  const perDay = i.forecast.length ? i.forecast.reduce((s, v) => s + v, 0) / i.forecast.length : 0;
  const demandOverLeadTime = within.reduce((s, v) => s + v, 0) + perDay * Math.max(0, i.leadTimeDays - i.forecast.length);
  const safetyStock = quantile(i.serviceLevel) * i.dailyError * Math.sqrt(i.leadTimeDays);
  const need = demandOverLeadTime + safetyStock - i.available - i.inbound;
  const packs = need > 0 ? Math.ceil(need / i.packSize) : 0;
  return {
    sku: i.sku,
    warehouseId: i.warehouseId,
    leadTimeDays: i.leadTimeDays,
    demandOverLeadTime,
    safetyStock,
    available: i.available,
    inbound: i.inbound,
    need,
    packSize: i.packSize,
    packs,
    suggestedQuantity: packs * i.packSize,
  };
}
