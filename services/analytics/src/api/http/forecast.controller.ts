import { CurrentPrincipal, type Principal, Requires } from '@flowline/auth';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ForecastView } from '../../application/forecast-queries';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';
import { analyticsShops } from '../analytics-scope';
import { ForecastQueryDto, PurchaseSuggestionsDto, WarehouseSuggestionsQueryDto } from './dto/analytics.dto';

@ApiTags('forecast and purchasing')
@Controller('api/analytics')
export class ForecastController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @Get('forecast')
  @ApiOperation({
    summary:
      'Daily demand forecast of a SKU (or SKU x warehouse): MSTL+ETS with promotion days as known inputs, prediction intervals, backtest sMAPE/MAPE of the last 4 weeks (rolling origin) beside a seasonal naive baseline; the model is used only where it beats the baseline',
  })
  @Requires('read', 'Analytics')
  forecast(@Query() q: ForecastQueryDto, @CurrentPrincipal() p: Principal | undefined): Promise<ForecastView> {
    return this.runtime.forecasts.forecast({ ...q, shops: analyticsShops(p) });
  }

  // A computation over the facts, not a command: nothing is stored, so no Idempotency-Key.
  @Post('purchase-suggestions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Purchase suggestions for one warehouse: forecast demand over lead time + safety stock - available - inbound, rounded up to packs' })
  @Requires('read', 'Analytics')
  purchase(@Body() body: PurchaseSuggestionsDto, @CurrentPrincipal() p: Principal | undefined) {
    return this.runtime.forecasts.purchaseSuggestions(body.warehouseId, body.from, body.items, analyticsShops(p));
  }

  @Get('purchase-suggestions')
  @ApiOperation({ summary: 'The purchase list of one warehouse: every SKU it stocks or ships, one lead time / pack size / service level for all, largest suggestion first (per-SKU terms: POST)' })
  @Requires('read', 'Analytics')
  async warehouseList(@Query() q: WarehouseSuggestionsQueryDto, @CurrentPrincipal() p: Principal | undefined) {
    const skus = await this.runtime.forecasts.warehouseSkus(q.warehouseId);
    const r = await this.runtime.forecasts.purchaseSuggestions(
      q.warehouseId,
      q.from,
      skus.map((sku) => ({ sku, leadTimeDays: q.leadTimeDays ?? 7, packSize: q.packSize ?? 1, serviceLevel: q.serviceLevel })),
      analyticsShops(p),
    );
    return { ...r, suggestions: [...r.suggestions].sort((a, b) => b.suggestedQuantity - a.suggestedQuantity || (a.sku < b.sku ? -1 : 1)) };
  }
}
