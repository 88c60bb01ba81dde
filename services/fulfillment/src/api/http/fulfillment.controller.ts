import { actorFromPrincipal, ForCustomers, requireOwnOrder, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { releaseTargetNotFound, unknownOrderFreeze } from '../../application/fulfillment.service';
import { outOfShops, requireOrderInShops, requireShipmentInShops } from '../shop-scope';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdParam, pageSize } from '@flowline/platform';
import type { CommandMeta } from '../../application/fulfillment.handler';
import type { ShipmentAction } from '../../application/fulfillment.service';
import { FulfillmentApi } from '../fulfillment-api';
import { CarrierEventDto, FreezeOverrideDto, PackDto, ReleaseMergedDto, ReturnReceiptDto, ReturnRequestDto, ScanDto, ShipDto } from './dto/fulfillment.dto';

/** REST for the warehouse: pick lists, scan-to-pack, pack, ship, intercepts, labels; the freeze for the change-request flow. */
@ApiTags('fulfillment')
@Controller('api/fulfillment')
export class FulfillmentController {
  constructor(private readonly api: FulfillmentApi) {}

  /** Command metadata: Idempotency-Key from the headers, the actor from the verified token (issue #16). */
  private meta(op: string, id: string, headers: Record<string, string | undefined>, body: unknown, correlationId?: string): CommandMeta {
    return { ...this.api.meta(op, id, headers['idempotency-key'], body, correlationId), actor: actorFromPrincipal(requirePrincipal(headers)) };
  }

  /** A warehouse command on a parcel; another shop's parcel is unknown to a shop-limited token (ADR 0018). */
  private async act(shipmentId: string, op: string, action: ShipmentAction, headers: Record<string, string | undefined>, correlationId?: string) {
    await requireShipmentInShops(headers, this.api.service, shipmentId);
    return this.api.service.act(shipmentId, action, this.meta(op, shipmentId, headers, action, correlationId));
  }

  @Get('orders/:orderId')
  @ApiOperation({ summary: "An order's parcels, its stop and its freeze." })
  @Requires('read', 'Shipment')
  @ForCustomers()
  async order(@Param('orderId', new IdParam('orderId')) orderId: string, @Headers() headers: Record<string, string | undefined>) {
    // The portal reads its buyer's own parcels here: another order is a 404 to a customer token.
    requireOwnOrder(requirePrincipal(headers), orderId);
    await requireOrderInShops(headers, this.api.service, orderId);
    return this.api.service.order(orderId);
  }

  @Get('orders/:orderId/freeze')
  @ApiOperation({ summary: 'May the order still change? Frozen from the first packed parcel until a manager override.' })
  @Requires('read', 'Shipment')
  @ForCustomers()
  async freeze(@Param('orderId', new IdParam('orderId')) orderId: string, @Headers() headers: Record<string, string | undefined>) {
    requireOwnOrder(requirePrincipal(headers), orderId);
    // Another shop's order answers as an unknown one: not frozen.
    if (await outOfShops(headers, () => this.api.service.shopOfOrder(orderId))) return unknownOrderFreeze(orderId);
    return this.api.service.freeze(orderId);
  }

  @Post('orders/:orderId/freeze-override')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'A manager lifts the freeze (FreezeOverridden). Not frozen -> 409 ORDER_NOT_FROZEN.' })
  @Requires('override', 'Order')
  async overrideFreeze(@Param('orderId', new IdParam('orderId')) orderId: string, @Body() dto: FreezeOverrideDto, @Headers() headers: Record<string, string | undefined>) {
    await requireOrderInShops(headers, this.api.service, orderId);
    // Who lifts the freeze is the verified token's subject and role (issue #16); a body `actor` is ignored.
    const verified = actorFromPrincipal(requirePrincipal(headers));
    const actor = { id: verified.id, role: verified.role ?? 'general_manager', ...(verified.name ? { name: verified.name } : {}) };
    return this.api.service.overrideFreeze(orderId, actor, dto.reason, {
      ...this.meta('freeze-override', orderId, headers, { actor, reason: dto.reason }),
    });
  }

  @Get('warehouses/:warehouseId/pick-list')
  @ApiOperation({ summary: 'Parcels to pick in a warehouse (high priority first); stopped parcels are withdrawn.' })
  @Requires('read', 'Shipment')
  async pickList(@Param('warehouseId', new IdParam('warehouseId')) warehouseId: string, @Headers() headers: Record<string, string | undefined>, @Query('limit') limit?: string) {
    // A shop-limited token lists its shops' parcels (and those of orders started before shops were kept).
    const shops = shopFilter(requirePrincipal(headers));
    return { warehouseId, shipments: await this.api.service.pickList(warehouseId, pageSize('limit', limit === undefined ? undefined : Number(limit), { max: 500 }) ?? 100, shops) };
  }

  @Get('shipments/:shipmentId')
  @Requires('read', 'Shipment')
  async shipment(@Param('shipmentId', new IdParam('shipmentId')) shipmentId: string, @Headers() headers: Record<string, string | undefined>) {
    await requireShipmentInShops(headers, this.api.service, shipmentId);
    return this.api.service.shipment(shipmentId);
  }

  @Get('shipments/:shipmentId/label')
  @ApiOperation({ summary: 'Print data of the e-waybill label (after packing).' })
  @Requires('read', 'Shipment')
  async label(@Param('shipmentId', new IdParam('shipmentId')) shipmentId: string, @Headers() headers: Record<string, string | undefined>) {
    await requireShipmentInShops(headers, this.api.service, shipmentId);
    // Print data holds the recipient's name, phone and address: warehouse work, never a buyer's token (the guard refuses one here).
    return this.api.service.label(shipmentId);
  }

  @Post('shipments/:shipmentId/release')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({
    summary: 'Release a merged parcel (合单; its MRG- id or a member parcel id) for picking before its merge window ends: it is sealed, no order joins it, it is on the pick list. Until then pick / scan / pack answer 409 MERGE_WINDOW_OPEN.',
  })
  @Requires('pack', 'Shipment')
  async release(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: ReleaseMergedDto, @Headers() h: Record<string, string | undefined>) {
    // Another shop's box answers as an unknown id does here (releaseTargetNotFound).
    if (await outOfShops(h, () => this.api.service.shopOfShipment(id))) throw releaseTargetNotFound(id);
    return this.api.service.releaseMerged(id, dto.reason, this.meta('release', id, h, dto));
  }

  @Post('shipments/:shipmentId/pick')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('pack', 'Shipment')
  pick(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'pick', { type: 'StartPicking' }, h);
  }

  @Post('shipments/:shipmentId/scans')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Scan an item into the parcel. Wrong SKU -> 409 SCAN_WRONG_SKU; too many -> 409 SCAN_QUANTITY_EXCEEDED.' })
  @Requires('pack', 'Shipment')
  scan(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: ScanDto, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'scan', { type: 'ScanItem', sku: dto.sku, quantity: dto.quantity }, h);
  }

  @Post('shipments/:shipmentId/pack')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Pack (waybill from the carrier). Not fully scanned -> 409 PACK_INCOMPLETE; stopped -> 409 SHIPMENT_STOPPED.' })
  @Requires('pack', 'Shipment')
  pack(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: PackDto, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'pack', { type: 'PackShipment', ...(dto.carrier ? { carrier: dto.carrier } : {}), ...(dto.waybillNo ? { waybillNo: dto.waybillNo } : {}) }, h);
  }

  @Post('shipments/:shipmentId/ship')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Handed to the carrier. Intercept pending -> 409 INTERCEPT_PENDING.' })
  @Requires('ship', 'Shipment')
  ship(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: ShipDto, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'ship', { type: 'ShipShipment', ...(dto.carrier ? { carrier: dto.carrier } : {}), ...(dto.trackingNumber ? { trackingNumber: dto.trackingNumber } : {}) }, h);
  }

  @Post('shipments/:shipmentId/intercept/confirm')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'The parcel was pulled: fulfilment stopped (units back to stock).' })
  @Requires('update', 'Shipment')
  confirmIntercept(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'intercept-confirm', { type: 'ConfirmIntercept' }, h);
  }

  @Post('shipments/:shipmentId/intercept/reject')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'The parcel had already left: recorded as shipped after the stop.' })
  @Requires('update', 'Shipment')
  rejectIntercept(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Headers() h: Record<string, string | undefined>) {
    return this.act(id, 'intercept-reject', { type: 'RejectIntercept' }, h);
  }

  @Post('shipments/:shipmentId/carrier-events')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'A tracking state for the parcel (duplicates and older states are ignored; never moves back).' })
  @Requires('update', 'Shipment')
  async carrierEvent(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: CarrierEventDto, @Headers() h: Record<string, string | undefined>) {
    await requireShipmentInShops(h, this.api.service, id);
    return this.api.carrierUpdate(id, { state: dto.state, description: dto.description, at: dto.at }, this.meta('carrier-event', id, h, dto));
  }

  @Post('shipments/:shipmentId/returns')
  @HttpCode(201)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'Open a return (RMA) for a delivered or refused parcel. Not delivered -> 409 RETURN_NOT_ALLOWED; more than shipped -> 409 RETURN_LINE_INVALID.' })
  @Requires('update', 'Shipment')
  async requestReturn(@Param('shipmentId', new IdParam('shipmentId')) id: string, @Body() dto: ReturnRequestDto, @Headers() h: Record<string, string | undefined>) {
    await requireShipmentInShops(h, this.api.service, id);
    const input = { rmaId: dto.rmaId ?? `RMA-${this.api.newId()}`, lines: dto.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), reason: dto.reason };
    return this.api.service.requestReturn(id, input, this.meta('return', id, h, { ...dto, rmaId: dto.rmaId ?? null }));
  }

  @Post('orders/:orderId/returns/:rmaId/receive')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({ summary: 'The returned parcel arrived: resellable units are restocked (inventory receipt), damaged ones written off.' })
  @Requires('update', 'Shipment')
  async receiveReturn(@Param('orderId', new IdParam('orderId')) orderId: string, @Param('rmaId', new IdParam('rmaId')) rmaId: string, @Body() dto: ReturnReceiptDto, @Headers() h: Record<string, string | undefined>) {
    await requireOrderInShops(h, this.api.service, orderId);
    const lines = dto.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, condition: l.condition }));
    return this.api.service.receiveReturn(orderId, rmaId, lines, this.meta('return-receipt', rmaId, h, lines));
  }
}
