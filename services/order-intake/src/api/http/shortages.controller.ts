import { Body, Controller, ForbiddenException, HttpCode, Inject, Post, Req, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { actorFromPrincipal, allShops, requirePrincipal, Requires } from '@flowline/auth';
import { ShortageRetryJob, StockUnavailable } from '../../application/shortage-retry.job';
import { DomainErrorDto, ValidationErrorDto } from './dto/order-responses.dto';
import { ShortageRetryDto, ShortageRetryOutcomeDto } from './dto/shortage-retry.dto';

/**
 * Orders waiting for stock (缺货) tried again now (到货重新预占), for the console's button after a
 * receipt: the same run the timer makes every ORDER_SHORTAGE_RETRY_INTERVAL_MS, with `sku` limited
 * to the orders short of it. Stock is shared by every shop and served first placed first, so only
 * a user who sees every shop may ask (a shop-limited one would put their shop's orders first).
 */
@ApiTags('orders')
@ApiBearerAuth()
@Controller('api/orders/shortages')
export class ShortagesHttpController {
  constructor(@Inject(ShortageRetryJob) private readonly job: ShortageRetryJob) {}

  @Post('retry')
  @HttpCode(200)
  @Requires('update', 'Order')
  @ApiOperation({
    summary: 'Try the orders waiting for stock again (到货重新预占)',
    description:
      'Every order whose open exception is STOCK_SHORTAGE (before reservation, not held, no refund requested), first placed first: when what inventory has now covers all its lines (after the orders before it), the exception is resolved and inventory is asked to reserve the order again. Inventory still decides: an order refused again keeps waiting. The timer makes the same run every minute, and also waits for the short stock to move and backs off an order refused again and again; asked here, those waits are skipped.',
  })
  @ApiOkResponse({ type: ShortageRetryOutcomeDto })
  @ApiBadRequestResponse({ type: ValidationErrorDto, description: 'sku is not a SKU' })
  @ApiForbiddenResponse({ type: DomainErrorDto, description: 'FORBIDDEN: the token sees only some shops (stock is shared: waiting orders are served first placed first across shops)' })
  @ApiServiceUnavailableResponse({ type: DomainErrorDto, description: 'INVENTORY_UNAVAILABLE: the stock could not be read; nothing was retried' })
  async retry(@Body() body: ShortageRetryDto, @Req() req: object): Promise<ShortageRetryOutcomeDto> {
    const principal = requirePrincipal(req);
    if (!allShops(principal) || principal.roles.includes('customer'))
      throw new ForbiddenException({ code: 'FORBIDDEN', message: 'stock is shared by every shop: only a token that sees every shop retries the waiting orders' });
    try {
      return await this.job.runOnce(new Date().toISOString(), { ...(body.sku !== undefined ? { sku: body.sku } : {}), person: actorFromPrincipal(principal) });
    } catch (error) {
      if (error instanceof StockUnavailable) throw new ServiceUnavailableException({ code: 'INVENTORY_UNAVAILABLE', message: error.message });
      throw error;
    }
  }
}
