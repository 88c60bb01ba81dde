import { Requires } from '@flowline/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { pageSize } from '@flowline/platform';
import { InventoryRuntime } from '../../infra/inventory-runtime';

/**
 * The low-stock list (the console's inventory screen): SKUs with a low-stock threshold whose total
 * available is below it, lowest first. Computed the same way as GET /api/stock/skus/{sku} (levels
 * per warehouse minus safety stock), so the list and a SKU's page always agree.
 */
@ApiTags('stock')
@Controller('api/stock')
export class LowStockController {
  constructor(private readonly runtime: InventoryRuntime) {}

  @Get('low-stock')
  @ApiOperation({ summary: 'SKUs whose total available is below their low-stock threshold (threshold > 0), the largest shortfall first.' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @Requires('read', 'Stock')
  async lowStock(@Query('limit') limitParam?: string) {
    const limit = pageSize('limit', limitParam === undefined || limitParam === '' ? undefined : Number(limitParam), { max: 500 }) ?? 100;
    // Every SKU with a threshold, not the first 2,000 of the catalogue filtered afterwards (a larger
    // catalogue lost the SKUs after the 2,000th from the list).
    const withThreshold = await this.runtime.store.skusWithLowStockThreshold();
    const items = [];
    for (const s of withThreshold) {
      const stock = await this.runtime.service.stock(s.sku);
      if (stock.total.available < s.lowStockThreshold) {
        items.push({ sku: s.sku, name: s.name, threshold: s.lowStockThreshold, available: stock.total.available, onHand: stock.total.onHand, reserved: stock.total.reserved, shortfall: s.lowStockThreshold - stock.total.available });
      }
    }
    items.sort((a, b) => b.shortfall - a.shortfall || a.sku.localeCompare(b.sku));
    return { items: items.slice(0, limit), checkedSkus: withThreshold.length };
  }
}
