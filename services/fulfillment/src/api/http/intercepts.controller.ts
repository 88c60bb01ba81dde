import { requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { Controller, Get, Headers, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IdParam, pageSize } from '@flowline/platform';
import { interceptTasks } from '../../application/intercept-tasks.query';
import { FulfillmentRuntime } from '../../infra/fulfillment-runtime';

/** The warehouse screen's intercept task list (the pick list holds only parcels still to pick). */
@ApiTags('fulfillment')
@Controller('api/fulfillment')
export class InterceptsController {
  constructor(private readonly runtime: FulfillmentRuntime) {}

  @Get('warehouses/:warehouseId/intercepts')
  @ApiOperation({ summary: "Parcels of a warehouse waiting for an intercept (status intercept_requested: packed or handed over, order stopped), oldest first; then POST shipments/{id}/intercept/confirm or reject." })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @Requires('read', 'Shipment')
  async intercepts(@Param('warehouseId', new IdParam('warehouseId')) warehouseId: string, @Headers() headers: Record<string, string | undefined>, @Query('limit') limit?: string) {
    const n = pageSize('limit', limit === undefined || limit === '' ? undefined : Number(limit), { max: 500 }) ?? 100;
    return { warehouseId, tasks: await interceptTasks(this.runtime.pool, warehouseId, n, shopFilter(requirePrincipal(headers))) };
  }
}
