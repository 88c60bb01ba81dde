import { principalOf, Requires } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { CHANNELS, type Channel } from '@flowline/contracts';
import { enumValue, optionalId, pageSize, RequestValidationError, requireId, requireSku } from '@flowline/platform';
import { SALES_DIMENSIONS, type SalesDimension, type SalesRow } from '../../application/sales-queries';
import type { Backtest } from '../../domain/forecast';
import { SETTLEMENT_PLATFORMS, type SettlementPlatform } from '../../domain/reconciliation';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';
import { analyticsShops } from '../analytics-scope';

/** Messages of proto/analytics/v1/analytics.proto as proto-loader shapes them (camelCase, int64 as number). */
interface GetSalesRequest {
  by: string;
  from: string;
  to: string;
  channel?: string;
  shopId?: string;
}
interface GetSalesResponse {
  by: string;
  currency: string;
  total: SalesRow;
  rows: SalesRow[];
  repeatPurchaseRate: number;
  customers: number;
  repeatCustomers: number;
}

const CHANNEL_NAMES: Readonly<Record<string, Channel>> = Object.fromEntries(CHANNELS.map((c) => [c, c]));

const isIso = (v: string | undefined) => !!v && Number.isFinite(Date.parse(v));
const isDay = (v: string | undefined) => !!v && /^\d{4}-\d{2}-\d{2}$/.test(v) && isIso(v);

/** INVALID_ARGUMENT / VALIDATION_FAILED naming every bad field (JSON paths; proto paths on the wire). */
function check(bad: [string, boolean][]): void {
  const fields = bad.filter(([, ok]) => !ok).map(([f]) => f);
  if (fields.length) throw new RequestValidationError(fields.map((field) => ({ field, constraint: 'invalid', message: `${field} is missing or invalid` })));
}

const backtestToProto = (b: Backtest | null) => (b ? { model: b.model, smape: b.smape, ...(b.mape === null ? {} : { mape: b.mape }), rmse: b.rmse } : undefined);

@Controller()
export class AnalyticsGrpcController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @GrpcMethod('AnalyticsService', 'GetSales')
  @Requires('read', 'Analytics')
  async getSales(req: GetSalesRequest, metadata: Metadata): Promise<GetSalesResponse> {
    check([['by', SALES_DIMENSIONS.includes(req.by as SalesDimension)], ['from', isIso(req.from)], ['to', isIso(req.to)]]);
    const shopId = optionalId('shopId', req.shopId);
    const shops = analyticsShops(principalOf(metadata), shopId);
    const r = await this.runtime.sales.sales(req.by as SalesDimension, { from: req.from, to: req.to, channel: enumValue('channel', req.channel, CHANNEL_NAMES, { optional: true }), shopId, shops });
    return { by: r.by, currency: r.currency, total: r.total, rows: r.rows, repeatPurchaseRate: r.repeatPurchaseRate, customers: r.customers, repeatCustomers: r.repeatCustomers };
  }

  @GrpcMethod('AnalyticsService', 'GetChecksum')
  @Requires('read', 'Analytics')
  async getChecksum(req: { schema?: string }): Promise<{ schema: string; checksum: string }> {
    const c = await this.runtime.checksum(req.schema || undefined);
    return { schema: c.schema, checksum: c.checksum };
  }

  @GrpcMethod('AnalyticsService', 'GetRfm')
  @Requires('read', 'Analytics')
  async getRfm(req: { from: string; asOf: string }, metadata: Metadata) {
    check([['from', isIso(req.from)], ['asOf', isIso(req.asOf)]]);
    const r = await this.runtime.customers.rfm(req.from, req.asOf, analyticsShops(principalOf(metadata)));
    return { customers: r.customers };
  }

  @GrpcMethod('AnalyticsService', 'GetSkuPairs')
  @Requires('read', 'Analytics')
  async getSkuPairs(req: { from: string; to: string; minCount?: number; limit?: number }, metadata: Metadata) {
    check([['from', isIso(req.from)], ['to', isIso(req.to)], ['minCount', Number.isInteger(req.minCount ?? 0) && (req.minCount ?? 0) >= 0]]);
    return this.runtime.customers.skuPairs(req.from, req.to, req.minCount || undefined, pageSize('limit', req.limit, { max: 500 }), analyticsShops(principalOf(metadata)));
  }

  @GrpcMethod('AnalyticsService', 'GetForecast')
  @Requires('read', 'Analytics')
  async getForecast(req: { sku: string; warehouseId?: string; from: string; historyDays?: number; horizon?: number }, metadata: Metadata) {
    const sku = requireSku('sku', req.sku);
    optionalId('warehouseId', req.warehouseId);
    check([
      ['from', isDay(req.from)],
      ['historyDays', !req.historyDays || (req.historyDays >= 35 && req.historyDays <= 1100)],
      ['horizon', !req.horizon || (req.horizon >= 1 && req.horizon <= 60)],
    ]);
    const f = await this.runtime.forecasts.forecast({ sku, warehouseId: req.warehouseId || undefined, from: req.from, historyDays: req.historyDays || undefined, horizon: req.horizon || undefined, shops: analyticsShops(principalOf(metadata)) });
    return {
      days: f.days,
      point: f.point,
      lower: f.lower,
      upper: f.upper,
      chosen: f.chosen,
      modelName: f.model.name,
      modelBacktest: backtestToProto(f.model.backtest),
      baselineBacktest: backtestToProto(f.baseline.backtest),
      modelError: f.model.error ?? '',
      level: f.level,
    };
  }

  @GrpcMethod('AnalyticsService', 'GetPurchaseSuggestions')
  @Requires('read', 'Analytics')
  async getPurchaseSuggestions(req: { warehouseId: string; from: string; items?: { sku: string; leadTimeDays: number; packSize: number; inbound?: number; serviceLevel?: number }[] }, metadata: Metadata) {
    requireId('warehouseId', req.warehouseId);
    const items = (req.items ?? []).map((i, n) => ({ ...i, sku: requireSku(`items.${n}.sku`, i.sku) }));
    check([
      ['from', isDay(req.from)],
      ['items', items.length > 0 && items.length <= 200],
      ...items.flatMap((i, n): [string, boolean][] => [
        [`items.${n}.leadTimeDays`, i.leadTimeDays >= 1 && i.leadTimeDays <= 120],
        [`items.${n}.packSize`, i.packSize >= 1],
        [`items.${n}.serviceLevel`, !i.serviceLevel || (i.serviceLevel >= 0.5 && i.serviceLevel <= 0.999)],
      ]),
    ]);
    const r = await this.runtime.forecasts.purchaseSuggestions(
      req.warehouseId,
      req.from,
      items.map((i) => ({ sku: i.sku, leadTimeDays: i.leadTimeDays, packSize: i.packSize, inbound: i.inbound ?? 0, serviceLevel: i.serviceLevel || undefined })),
      analyticsShops(principalOf(metadata)),
    );
    return { suggestions: r.suggestions };
  }

  @GrpcMethod('AnalyticsService', 'GetDailyReconciliation')
  @Requires('read', 'Analytics')
  async getDailyReconciliation(req: { platform: string; day: string }, metadata: Metadata) {
    check([['platform', SETTLEMENT_PLATFORMS.includes(req.platform as SettlementPlatform)], ['day', isDay(req.day)]]);
    const r = await this.runtime.reconciliation.daily(req.platform as SettlementPlatform, req.day, analyticsShops(principalOf(metadata)));
    return {
      discrepancies: r.discrepancies.map((d) => ({ ...d, orderId: d.orderId ?? '' })),
      ordersReconciled: r.ordersReconciled,
      ordersTotal: r.ordersTotal,
      reconciledRate: r.reconciledRate,
    };
  }
}
