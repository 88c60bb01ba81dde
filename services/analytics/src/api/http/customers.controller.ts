import { CurrentPrincipal, type Principal, Requires } from '@flowline/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RfmReport } from '../../application/customer-queries';
import type { SkuPair } from '../../domain/sku-pairs';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';
import { analyticsShops } from '../analytics-scope';
import { RfmQueryDto, SkuPairsQueryDto } from './dto/analytics.dto';

@ApiTags('customers and baskets')
@Controller('api/analytics')
export class CustomersController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  @Get('customers/rfm')
  @ApiOperation({ summary: 'RFM scores (1-5) and segment per customer (channel customer id), with segment counts' })
  @Requires('read', 'Analytics')
  rfm(@Query() q: RfmQueryDto, @CurrentPrincipal() p: Principal | undefined): Promise<RfmReport> {
    return this.runtime.customers.rfm(q.from, q.asOf, analyticsShops(p));
  }

  @Get('sku-pairs')
  @ApiOperation({ summary: 'SKUs bought together: support, confidence both ways and lift, strongest lift first' })
  @Requires('read', 'Analytics')
  skuPairs(@Query() q: SkuPairsQueryDto, @CurrentPrincipal() p: Principal | undefined): Promise<{ baskets: number; pairs: SkuPair[] }> {
    return this.runtime.customers.skuPairs(q.from, q.to, q.minCount, q.limit, analyticsShops(p));
  }
}
