import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ChannelStore } from '../../application/channel-store.port';
import type { PullService } from '../../application/pull.service';
import type { StockPushService } from '../../application/stock-push.service';
import { CHANNEL_STORE, PULL_SERVICE, STOCK_PUSH } from '../../tokens';

@ApiTags('channel connectors')
@Controller('api/connectors')
export class ConnectorsController {
  constructor(
    @Inject(PULL_SERVICE) private readonly pulls: PullService,
    @Inject(CHANNEL_STORE) private readonly store: ChannelStore,
    @Inject(STOCK_PUSH) private readonly stock: StockPushService,
  ) {}

  @Get('stock')
  @ApiOperation({ summary: 'Stock push-back per (shop, SKU): newest ATP, last pushed, due, last error' })
  stockState() {
    return this.stock.state();
  }

  @Post(':platform/:shopId/pull')
  @HttpCode(200)
  @ApiOperation({ summary: "Pull a shop's orders now: every window from its checkpoint up to the platform's clock" })
  @ApiOkResponse({ description: 'Windows pulled, orders imported / updated / duplicates / rejected, new checkpoint' })
  @ApiNotFoundResponse({ description: 'SHOP_NOT_CONFIGURED' })
  pull(@Param('platform') platform: string, @Param('shopId') shopId: string) {
    return this.pulls.pull(platform, shopId);
  }

  @Get('checkpoints')
  @ApiOperation({ summary: "Each shop's pull checkpoint and lag (connector lag = now - checkpoint)" })
  async checkpoints() {
    const now = Date.now();
    return (await this.store.checkpoints()).map((c) => ({ ...c, lagMs: now - Date.parse(c.checkpoint) }));
  }
}
