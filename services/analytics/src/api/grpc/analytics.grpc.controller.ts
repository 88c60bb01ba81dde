import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { DomainError } from '@flowline/domain';
import { SALES_DIMENSIONS, type SalesDimension, type SalesRow } from '../../application/sales-queries';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';

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

const isIso = (v: string | undefined) => !!v && Number.isFinite(Date.parse(v));

@Controller()
export class AnalyticsGrpcController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @GrpcMethod('AnalyticsService', 'GetSales')
  async getSales(req: GetSalesRequest): Promise<GetSalesResponse> {
    const bad = [
      ...(SALES_DIMENSIONS.includes(req.by as SalesDimension) ? [] : ['by']),
      ...(isIso(req.from) ? [] : ['from']),
      ...(isIso(req.to) ? [] : ['to']),
    ];
    if (bad.length) throw new DomainError('INVALID_ARGUMENT', `invalid field(s): ${bad.join(', ')}`, { fields: bad }, 'invalid');
    const r = await this.runtime.sales.sales(req.by as SalesDimension, { from: req.from, to: req.to, channel: req.channel || undefined, shopId: req.shopId || undefined });
    return { by: r.by, currency: r.currency, total: r.total, rows: r.rows, repeatPurchaseRate: r.repeatPurchaseRate, customers: r.customers, repeatCustomers: r.repeatCustomers };
  }

  @GrpcMethod('AnalyticsService', 'GetChecksum')
  async getChecksum(req: { schema?: string }): Promise<{ schema: string; checksum: string }> {
    const c = await this.runtime.checksum(req.schema || undefined);
    return { schema: c.schema, checksum: c.checksum };
  }
}
