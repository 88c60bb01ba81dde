import { Requires } from '@flowline/auth';
import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { IdParam } from '@flowline/platform';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ChannelStore } from '../../application/channel-store.port';
import type { PullService } from '../../application/pull.service';
import type { StockPushService } from '../../application/stock-push.service';
import type { ChannelGatewayMetrics } from '../../infra/channel-gateway.metrics';
import { CHANNEL_METRICS, CHANNEL_STORE, PULL_SERVICE, STOCK_PUSH } from '../../tokens';

@ApiTags('channel connectors')
@Controller('api/connectors')
export class ConnectorsController {
  constructor(
    @Inject(PULL_SERVICE) private readonly pulls: PullService,
    @Inject(CHANNEL_STORE) private readonly store: ChannelStore,
    @Inject(STOCK_PUSH) private readonly stock: StockPushService,
    @Inject(CHANNEL_METRICS) private readonly metrics: ChannelGatewayMetrics,
  ) {}

  @Get('stock')
  @ApiOperation({ summary: 'Stock push-back per (shop, SKU): newest ATP, last pushed, due, last error' })
  @Requires('read', 'Import')
  stockState() {
    return this.stock.state();
  }

  @Post(':platform/:shopId/pull')
  @HttpCode(200)
  @ApiOperation({ summary: "Pull a shop's orders now: every window from its checkpoint up to the platform's clock" })
  @ApiOkResponse({ description: 'Windows pulled, orders imported / updated / duplicates / rejected, new checkpoint' })
  @ApiNotFoundResponse({ description: 'SHOP_NOT_CONFIGURED' })
  @Requires('create', 'Import')
  async pull(@Param('platform', new IdParam('platform')) platform: string, @Param('shopId', new IdParam('shopId')) shopId: string) {
    const result = await this.pulls.pull(platform, shopId);
    this.metrics.lag(await this.store.checkpoints(), Date.now());
    return result;
  }

  @Get('checkpoints')
  @ApiOperation({ summary: "Each shop's pull checkpoint and lag (connector lag = now - checkpoint)" })
  @Requires('read', 'Import')
  async checkpoints() {
    const now = Date.now();
    const rows = await this.store.checkpoints();
    this.metrics.lag(rows, now);
    return rows.map((c) => ({ ...c, lagMs: now - Date.parse(c.checkpoint) }));
  }
}
