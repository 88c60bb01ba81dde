import { Requires } from '@flowline/auth';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { IdParam, RequestValidationError, SkuParam, checkIdempotencyKey, optionalSku } from '@flowline/platform';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@flowline/domain';
import type { CommandMeta, CommandOutcome } from '../../application/inventory-commands';
import { channelRuleProblems } from '../../domain/policies/availability.policy';
import { InventoryRuntime } from '../../infra/inventory-runtime';
import { reservationVisible } from '../shop-scope';
import { AdjustmentDto, CODE, ImportDto, ReceiptDto, RepairDto, SkuRulesDto, WarehouseDto } from './dto/stock.dto';

function levelBody(outcome: CommandOutcome | undefined) {
  if (!outcome || outcome.kind !== 'level') return outcome;
  return { sku: outcome.sku, warehouseId: outcome.warehouseId, ...outcome.levels, version: outcome.version };
}

/** REST: receipts, adjustments, imports, stock by SKU, reservations of an order, ledger verify. */
@ApiTags('stock')
@Controller('api/stock')
export class StockController {
  constructor(private readonly runtime: InventoryRuntime) {}

  private meta(header: string | undefined, scope: string, correlationId?: string): CommandMeta {
    // The same keys as every service's commands: 1-200 printable ASCII (400 naming the header).
    const idempotencyKey = checkIdempotencyKey(header);
    return this.runtime.meta({
      ...(idempotencyKey ? { commandId: `${scope}:${idempotencyKey}`, dedupe: { kind: 'http', key: `${scope}:${idempotencyKey}`, clientKey: idempotencyKey } } : {}),
      ...(correlationId ? { correlationId } : {}),
    });
  }

  @Post('receipts')
  @HttpCode(201)
  @ApiOperation({ summary: 'Goods received: on_hand grows. Unknown SKU or warehouse -> 404.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('update', 'Stock')
  async receive(@Body() dto: ReceiptDto, @Headers('idempotency-key') key?: string, @Headers('x-correlation-id') correlationId?: string) {
    const outcome = await this.runtime.service.run({
      type: 'ReceiveStock',
      meta: this.meta(key, 'receipt', correlationId),
      sku: dto.sku,
      warehouseId: dto.warehouseId,
      quantity: dto.quantity,
      ...(dto.reference ? { reference: dto.reference } : {}),
    });
    return levelBody(outcome);
  }

  @Post('adjustments')
  @HttpCode(201)
  @ApiOperation({ summary: 'Correction after a count, damage or return. Below reserved -> 409 ADJUSTMENT_BELOW_RESERVED.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('adjust', 'Stock')
  async adjust(@Body() dto: AdjustmentDto, @Headers('idempotency-key') key?: string, @Headers('x-correlation-id') correlationId?: string) {
    const outcome = await this.runtime.service.run({
      type: 'AdjustStock',
      meta: this.meta(key, 'adjustment', correlationId),
      sku: dto.sku,
      warehouseId: dto.warehouseId,
      delta: dto.delta,
      reason: dto.reason,
      ...(dto.note ? { note: dto.note } : {}),
    });
    return levelBody(outcome);
  }

  @Post('imports')
  @HttpCode(201)
  @ApiOperation({ summary: 'Open a ledger with balances from another system; then GET verify and POST verify/repair.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('adjust', 'Stock')
  async import(@Body() dto: ImportDto, @Headers('idempotency-key') key?: string) {
    const outcome = await this.runtime.service.run({
      type: 'ImportStock',
      meta: this.meta(key, 'import'),
      sku: dto.sku,
      warehouseId: dto.warehouseId,
      onHand: dto.onHand,
      reserved: dto.reserved,
      reservations: dto.reservations.map((r) => ({ orderId: r.orderId, lineId: r.lineId, quantity: r.quantity, ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}) })),
      source: dto.source,
    });
    return levelBody(outcome);
  }

  @Get('skus/:sku')
  @ApiOperation({ summary: 'Stock of a SKU per warehouse and in total, its rules and ATP per channel.' })
  @Requires('read', 'Stock')
  stock(@Param('sku', new SkuParam()) sku: string) {
    return this.runtime.service.stock(sku);
  }

  @Get('skus/:sku/warehouses/:warehouseId')
  @ApiOperation({ summary: 'Stock of a SKU in one warehouse.' })
  @Requires('read', 'Stock')
  async stockIn(@Param('sku', new SkuParam()) sku: string, @Param('warehouseId', new IdParam('warehouseId')) warehouseId: string) {
    await this.runtime.service.warehouse(warehouseId);
    const stock = await this.runtime.service.stock(sku);
    const level = stock.warehouses.find((w) => w.warehouseId === warehouseId);
    if (!level) throw new DomainError('LEDGER_NOT_FOUND', `no stock of ${sku} in ${warehouseId} yet`, { sku, warehouseId }, 'not_found');
    return level;
  }

  @Put('skus/:sku')
  @ApiOperation({
    summary: 'Register a SKU or change its rules (backorder, safety stock, low-stock threshold, channel ATP rules).',
    description: 'allowBackorder defaults to false. Turning it off while units are reserved beyond stock is refused: 409 SKU_BACKORDERED, naming them per warehouse.',
  })
  @Requires('admin', 'Admin')
  async putSku(@Param('sku', new SkuParam()) sku: string, @Body() dto: SkuRulesDto) {
    const channelRules = (dto.channels ?? []).map((c) => ({
      channel: c.channel,
      ...(c.safetyStock !== undefined ? { safetyStock: c.safetyStock } : {}),
      ...(c.sharePercent !== undefined ? { sharePercent: c.sharePercent } : {}),
    }));
    const problems = channelRuleProblems(channelRules);
    if (problems.length > 0) throw new DomainError('INVALID_CHANNEL_RULES', problems.join('; '), { problems }, 'invalid');
    const { created } = await this.runtime.store.upsertSku({
      sku,
      name: dto.name,
      allowBackorder: dto.allowBackorder ?? false,
      safetyStock: dto.safetyStock ?? 0,
      lowStockThreshold: dto.lowStockThreshold ?? 0,
      channelRules,
    });
    return { created, ...(await this.runtime.service.stock(sku)) };
  }

  @Get('warehouses')
  @ApiOperation({ summary: 'Warehouses with their allocation priority (lower is preferred).' })
  @Requires('read', 'Stock')
  warehouses() {
    return this.runtime.warehouses();
  }

  @Put('warehouses/:warehouseId')
  @ApiOperation({ summary: 'Add or change a warehouse.' })
  @Requires('admin', 'Admin')
  async putWarehouse(@Param('warehouseId', new IdParam('warehouseId')) warehouseId: string, @Body() dto: WarehouseDto) {
    // CODE: a warehouse id travels in URLs (pick lists) and events; `WH/..` must not.
    if (!CODE.test(warehouseId)) throw new DomainError('INVALID_WAREHOUSE', 'warehouseId must be 1-64 letters, digits, dot, underscore or dash', { warehouseId }, 'invalid');
    await this.runtime.store.upsertWarehouse({ warehouseId, name: dto.name, priority: dto.priority, active: dto.active ?? true });
    this.runtime.forgetWarehouses();
    return this.runtime.service.warehouse(warehouseId);
  }

  @Get('reservations/:orderId')
  @ApiOperation({ summary: 'The reservation of an order: status, allocations per warehouse, open lines.' })
  @Requires('read', 'Stock')
  async reservation(@Param('orderId', new IdParam('orderId')) orderId: string, @Headers() h: Record<string, string | undefined>) {
    const found = await this.runtime.service.reservation(orderId);
    // Out of the caller's shops: the same 404 as an order without a reservation.
    if (!reservationVisible(h, found.reservation)) throw new DomainError('RESERVATION_NOT_FOUND', `order ${orderId} has no reservation`, { orderId }, 'not_found');
    return found;
  }

  @Get('verify')
  @ApiOperation({ summary: 'Ledger verify: reserved equals the sum of open reservations, and (deep) the stock rows equal the ledger events.' })
  @ApiQuery({ name: 'sku', required: false })
  @ApiQuery({ name: 'warehouseId', required: false })
  @ApiQuery({ name: 'deep', required: false, description: 'Replay every ledger stream too (default true).' })
  @Requires('read', 'Stock')
  async verify(@Query('sku') rawSku?: string, @Query('warehouseId') warehouseId?: string, @Query('deep') deep?: string) {
    const sku = optionalSku('sku', rawSku);
    // A yes/no: anything else ('maybe') is a 400 naming it, not read as yes.
    if (deep !== undefined && !['true', 'false', '1', '0'].includes(deep)) {
      throw new RequestValidationError([{ field: 'deep', constraint: 'isBoolean', message: 'deep must be true, false, 1 or 0' }]);
    }
    if (sku) await this.runtime.service.stock(sku);
    if (warehouseId) await this.runtime.service.warehouse(warehouseId);
    return this.runtime.service.verify(
      { ...(sku ? { sku } : {}), ...(warehouseId ? { warehouseId } : {}), deep: deep !== 'false' && deep !== '0' },
      new Date().toISOString(),
    );
  }

  @Post('verify/repair')
  @HttpCode(200)
  @ApiOperation({ summary: 'Repair for imported data: recount reserved to the sum of open reservations where they differ.' })
  @Requires('admin', 'Admin')
  repair(@Body() dto: RepairDto) {
    return this.runtime.service.repair({ ...(dto.sku ? { sku: dto.sku } : {}), ...(dto.warehouseId ? { warehouseId: dto.warehouseId } : {}) }, () =>
      this.runtime.meta({ correlationId: 'ledger-repair' }),
    );
  }
}
