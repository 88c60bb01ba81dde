import { CurrentPrincipal, type Principal, Requires } from '@flowline/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SalesReport } from '../../application/sales-queries';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';
import { analyticsShops } from '../analytics-scope';
import { SalesQueryDto } from './dto/analytics.dto';

@ApiTags('sales')
@Controller('api/analytics')
export class SalesController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @Get('sales')
  @ApiOperation({
    summary: 'Revenue, orders, units, AOV, refunds and net (fen) by day/hour/weekday/channel/shop/SKU/province, with the repeat-purchase rate',
    description: "Only the shops of the caller's token count (a shop-scoped user); a shopId outside them answers 404 SHOP_NOT_FOUND.",
  })
  @Requires('read', 'Analytics')
  sales(@Query() q: SalesQueryDto, @CurrentPrincipal() p: Principal | undefined): Promise<SalesReport> {
    const shops = analyticsShops(p, q.shopId);
    return this.runtime.sales.sales(q.by, { from: q.from, to: q.to, channel: q.channel, shopId: q.shopId, fill: q.fill, shops });
  }
}
