import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import { forecastSeries, type ForecastModel, type NormalQuantile, type PromotionCalendar, type SkuForecast } from '../domain/forecast';
import { purchaseSuggestion, type PurchaseSuggestion } from '../domain/purchase';
import { ANALYTICS_SCHEMA, table } from '../infra/analytics-schema';

const DAY = 86_400_000;
const isDay = (d: string) => /^\d{4}-\d{2}-\d{2}$/.test(d) && Number.isFinite(Date.parse(`${d}T00:00:00Z`));
const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

export interface ForecastRequest {
  sku: string;
  /** Only units allocated from this warehouse (SKU x warehouse); all warehouses when absent. */
  warehouseId?: string;
  /** First forecast day (local date); the history is the `historyDays` days before it. */
  from: string;
  historyDays?: number;
  horizon?: number;
  level?: number;
  /** The caller's shop scope: demand of these shops only (undefined = every shop). */
  shops?: string[];
}

export interface ForecastView extends SkuForecast {
  sku: string;
  warehouseId: string | null;
  historyDays: string[];
  history: number[];
}

export interface PurchaseRequestItem {
  sku: string;
  leadTimeDays: number;
  packSize: number;
  inbound?: number;
  serviceLevel?: number;
}

/** Daily demand series from the facts (units of paid orders per local day of placing), forecasts and purchase suggestions. */
export class ForecastQueries {
  constructor(
    private readonly pool: Pool,
    private readonly timeZone: string,
    private readonly model: () => ForecastModel,
    private readonly calendar: PromotionCalendar,
    private readonly quantile: NormalQuantile,
    private readonly schema: string = ANALYTICS_SCHEMA,
  ) {}

  async dailyUnits(sku: string, warehouseId: string | undefined, fromDay: string, toDay: string, shops?: string[]): Promise<Map<string, number>> {
    const s = this.schema;
    const local = `(o."placed_at" AT TIME ZONE $4)`;
    const sql = warehouseId
      ? `SELECT to_char(${local}, 'YYYY-MM-DD') AS d, sum(a."quantity")::bigint AS units
           FROM ${table(s, 'allocation')} a JOIN ${table(s, 'order_fact')} o USING ("order_id")
          WHERE a."sku" = $1 AND a."warehouse_id" = $5 AND o."paid_at" IS NOT NULL AND ${local}::date >= $2::date AND ${local}::date < $3::date AND ($6::text[] IS NULL OR o."shop_id" = ANY($6::text[])) GROUP BY 1`
      : `SELECT to_char(${local}, 'YYYY-MM-DD') AS d, sum(l."quantity")::bigint AS units
           FROM ${table(s, 'order_line')} l JOIN ${table(s, 'order_fact')} o USING ("order_id")
          WHERE l."sku" = $1 AND o."paid_at" IS NOT NULL AND ${local}::date >= $2::date AND ${local}::date < $3::date AND $5::text IS NULL AND ($6::text[] IS NULL OR o."shop_id" = ANY($6::text[])) GROUP BY 1`;
    const rows = (await this.pool.query(sql, [sku, fromDay, toDay, this.timeZone, warehouseId ?? null, shops ?? null])).rows as { d: string; units: string }[];
    return new Map(rows.map((r) => [r.d, Number(r.units)]));
  }

  async forecast(r: ForecastRequest): Promise<ForecastView> {
    if (!isDay(r.from)) throw new DomainError('INVALID_DATE', 'from must be a date YYYY-MM-DD', { field: 'from' }, 'invalid');
    const historyDays = r.historyDays ?? 182;
    const horizon = r.horizon ?? 14;
    const start = addDays(r.from, -historyDays);
    const units = await this.dailyUnits(r.sku, r.warehouseId, start, r.from, r.shops);
    const days = Array.from({ length: historyDays }, (_, i) => addDays(start, i));
    const futureDays = Array.from({ length: horizon }, (_, i) => addDays(r.from, i));
    const series = days.map((d) => units.get(d) ?? 0);
    const f = forecastSeries({ series, days, futureDays, model: this.model(), calendar: this.calendar, quantile: this.quantile, horizon, level: r.level ?? 0.95 });
    return { sku: r.sku, warehouseId: r.warehouseId ?? null, historyDays: days, history: series, ...f };
  }

  /** SKUs a warehouse stocks or has shipped (projected stock levels and allocations), sorted. */
  async warehouseSkus(warehouseId: string): Promise<string[]> {
    const s = this.schema;
    const rows = (
      await this.pool.query(
        `SELECT "sku" FROM ${table(s, 'stock_level')} WHERE "warehouse_id" = $1 UNION SELECT "sku" FROM ${table(s, 'allocation')} WHERE "warehouse_id" = $1 ORDER BY 1`,
        [warehouseId],
      )
    ).rows as { sku: string }[];
    return rows.map((r) => r.sku);
  }

  /** One suggestion per item for one warehouse: its SKU x warehouse forecast, available stock from the projected stock levels. */
  async purchaseSuggestions(warehouseId: string, from: string, items: PurchaseRequestItem[], shops?: string[]): Promise<{ warehouseId: string; from: string; suggestions: (PurchaseSuggestion & { forecastModel: string })[] }> {
    const suggestions: (PurchaseSuggestion & { forecastModel: string })[] = [];
    for (const item of items) {
      const f = await this.forecast({ sku: item.sku, warehouseId, from, shops });
      const used = f.chosen === 'model' && f.model.backtest ? f.model.backtest : f.baseline.backtest;
      const [stock] = (await this.pool.query(`SELECT "available" FROM ${table(this.schema, 'stock_level')} WHERE "sku" = $1 AND "warehouse_id" = $2`, [item.sku, warehouseId])).rows as { available: number }[];
      const s = purchaseSuggestion(
        {
          sku: item.sku,
          warehouseId,
          forecast: f.point,
          dailyError: used.rmse,
          leadTimeDays: item.leadTimeDays,
          serviceLevel: item.serviceLevel ?? 0.95,
          available: Math.max(0, stock?.available ?? 0),
          inbound: item.inbound ?? 0,
          packSize: item.packSize,
        },
        this.quantile,
      );
      suggestions.push({ ...s, forecastModel: f.chosen === 'model' ? f.model.name : f.baseline.name });
    }
    return { warehouseId, from, suggestions };
  }
}
