import { actorFromPrincipal, ForCustomers, requireOwnOrder, requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { unknownOrderFreeze } from '../../application/fulfillment.service';
import { outOfShops, requireOrderInShops, requireShipmentInShops } from '../shop-scope';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { fulfillmentV1 } from '@flowline/contracts';
import { optionalId, pageSize, RequestValidationError, requireId, requireSku } from '@flowline/platform';
import type { CommandMeta } from '../../application/fulfillment.handler';
import type { MergedParcelView, ShipmentAction, ShipmentView } from '../../application/fulfillment.service';
import type { CarrierChoice } from '../../domain/carrier-rules';
import { FulfillmentApi } from '../fulfillment-api';

const STATUS: Record<ShipmentView['status'], fulfillmentV1.ShipmentStatus> = {
  // Waiting for the factory is still "not packed yet" for gRPC clients (REST shows the exact status).
  awaiting_production: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_PENDING,
  created: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_PENDING,
  picking: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_PICKING,
  packed: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_PACKED,
  intercept_requested: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_INTERCEPT_REQUESTED,
  shipped: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_SHIPPED,
  in_transit: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_IN_TRANSIT,
  delivered: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_DELIVERED,
  carrier_exception: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_CARRIER_EXCEPTION,
  returned: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_RETURNED,
  stopped: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_STOPPED,
};

function toCarrierChoice(c: CarrierChoice | null | undefined): fulfillmentV1.CarrierChoice | undefined {
  if (!c) return undefined;
  return { carrier: c.carrier, ruleId: c.ruleId, ruleSetVersion: c.ruleSetVersion, weightGrams: c.weightGrams ?? 0, designated: c.designated ?? false };
}

const isMergedView = (s: ShipmentView): s is MergedParcelView => 'mergeStatus' in s;

/** A parcel, or a pick-list entry that is a merged parcel (合单: lines naming their order, window, box carrier). */
export function toShipment(s: ShipmentView, version = 0): fulfillmentV1.Shipment {
  const merged = isMergedView(s) ? s : null;
  return {
    shipmentId: s.shipmentId,
    orderId: s.orderId,
    status: STATUS[s.status],
    warehouseId: s.warehouseId,
    lines: s.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity, warehouseId: s.warehouseId, orderId: 'orderId' in l && typeof l.orderId === 'string' ? l.orderId : '' })),
    priority: '',
    requiresQc: false,
    waybillNo: s.waybillNo ?? '',
    carrier: s.carrier ?? '',
    trackingNumber: s.trackingNumber ?? '',
    packedAt: s.packedAt ?? '',
    shippedAt: s.shippedAt ?? '',
    deliveredAt: s.deliveredAt ?? '',
    version,
    carrierState: s.carrierState ?? '',
    shippedAfterStop: s.shippedAfterStop,
    weightGrams: s.weightGrams ?? 0,
    mergeParcelId: s.mergeParcelId ?? '',
    mergedOrderIds: s.mergedOrderIds ?? [],
    mergeStatus: merged?.mergeStatus ?? '',
    windowEndsAt: merged?.windowEndsAt ?? '',
    carrierChoice: toCarrierChoice(merged?.carrierChoice),
    onHold: s.holdReason !== null,
    holdReason: s.holdReason ?? '',
    channelOrderId: s.channelOrderId ?? '',
  };
}

/** A required free-text field (ids go through requireId). */
function required(value: string, field: string): string {
  if (!value?.trim()) throw new RequestValidationError([{ field, constraint: 'required', message: `${field} is required` }]);
  return value;
}

/** gRPC `flowline.fulfillment.v1.FulfillmentService`: the same use cases as REST; meta.request_id is the Idempotency-Key. */
@Controller()
export class FulfillmentGrpcController {
  constructor(private readonly api: FulfillmentApi) {}

  /** Command metadata; the actor is the verified token's (issue #16): a client's meta.actor is never trusted. */
  private meta(op: string, target: string, m: fulfillmentV1.PackRequest['meta'], request: unknown, metadata: Metadata): CommandMeta {
    return { ...this.api.meta(op, target, m?.requestId || undefined, request, m?.correlationId || undefined), actor: actorFromPrincipal(requirePrincipal(metadata)) };
  }

  /** The parcel a request names, or the order's parcel in a warehouse, or its only parcel. */
  private async shipmentIdOf(shipmentId: string, orderId: string, metadata: Metadata, warehouseId = ''): Promise<string> {
    if (shipmentId) return requireId('shipmentId', shipmentId);
    optionalId('warehouseId', warehouseId);
    await requireOrderInShops(metadata, this.api.service, requireId('orderId', orderId));
    const o = await this.api.service.order(orderId);
    const candidates = o.shipments.filter((s) => !warehouseId || s.warehouseId === warehouseId);
    if (candidates.length !== 1) {
      throw new RequestValidationError([{ field: 'shipmentId', constraint: 'required', message: `order ${orderId} has ${o.shipments.length} parcels: name shipment_id (or warehouse_id)` }]);
    }
    return candidates[0].shipmentId;
  }

  /** A warehouse command on a parcel; another shop's parcel is unknown to a shop-limited token (ADR 0018). */
  private async act(op: string, shipmentId: string, action: ShipmentAction, m: fulfillmentV1.PackRequest['meta'], metadata: Metadata): Promise<{ shipment: fulfillmentV1.Shipment }> {
    await requireShipmentInShops(metadata, this.api.service, shipmentId);
    const view = await this.api.service.act(shipmentId, action, this.meta(op, shipmentId, m, action, metadata));
    return { shipment: toShipment(view) };
  }

  @GrpcMethod('FulfillmentService', 'Pack')
  @Requires('pack', 'Shipment')
  async pack(req: fulfillmentV1.PackRequest, metadata: Metadata): Promise<fulfillmentV1.PackResponse> {
    const id = await this.shipmentIdOf(req.shipmentId, req.orderId, metadata, req.warehouseId);
    return this.act('pack', id, { type: 'PackShipment', ...(req.carrier ? { carrier: req.carrier } : {}), ...(req.waybillNo ? { waybillNo: req.waybillNo } : {}) }, req.meta, metadata);
  }

  @GrpcMethod('FulfillmentService', 'Ship')
  @Requires('ship', 'Shipment')
  async ship(req: fulfillmentV1.ShipRequest, metadata: Metadata): Promise<fulfillmentV1.ShipResponse> {
    const id = await this.shipmentIdOf(req.shipmentId, req.orderId, metadata);
    return this.act('ship', id, { type: 'ShipShipment', ...(req.carrier ? { carrier: req.carrier } : {}), ...(req.trackingNumber ? { trackingNumber: req.trackingNumber } : {}) }, req.meta, metadata);
  }

  @GrpcMethod('FulfillmentService', 'MarkDelivered')
  @Requires('update', 'Shipment')
  async markDelivered(req: fulfillmentV1.MarkDeliveredRequest, metadata: Metadata): Promise<fulfillmentV1.MarkDeliveredResponse> {
    const id = await this.shipmentIdOf(req.shipmentId, req.orderId, metadata);
    await requireShipmentInShops(metadata, this.api.service, id);
    const update = { state: 'delivered' as const, description: 'delivered (reported over gRPC)', at: req.deliveredAt || new Date().toISOString() };
    const view = await this.api.carrierUpdate(id, update, this.meta('carrier-event', id, req.meta, update, metadata));
    return { shipment: toShipment(view) };
  }

  @GrpcMethod('FulfillmentService', 'GetOrderFulfillment')
  @Requires('read', 'Shipment')
  @ForCustomers()
  async getOrderFulfillment(req: fulfillmentV1.GetOrderFulfillmentRequest, metadata: Metadata): Promise<fulfillmentV1.GetOrderFulfillmentResponse> {
    const orderId = requireId('orderId', req.orderId);
    requireOwnOrder(requirePrincipal(metadata), orderId);
    await requireOrderInShops(metadata, this.api.service, orderId);
    const o = await this.api.service.order(orderId);
    return { orderId: o.orderId, shipments: o.shipments.map((s) => toShipment(s, o.version)), stopReason: o.stop?.reason ?? '', frozen: o.freeze.frozen, version: o.version, carrierChoice: toCarrierChoice(o.carrierChoice) };
  }

  @GrpcMethod('FulfillmentService', 'ListPickList')
  @Requires('read', 'Shipment')
  async listPickList(req: fulfillmentV1.ListPickListRequest, metadata: Metadata): Promise<fulfillmentV1.ListPickListResponse> {
    const shops = shopFilter(requirePrincipal(metadata));
    const list = await this.api.service.pickList(requireId('warehouseId', req.warehouseId), pageSize('pageSize', req.pageSize, { max: 500 }) ?? 100, shops);
    return { shipments: list.map((s) => toShipment(s)) };
  }

  @GrpcMethod('FulfillmentService', 'StartPicking')
  @Requires('pack', 'Shipment')
  startPicking(req: fulfillmentV1.StartPickingRequest, metadata: Metadata): Promise<fulfillmentV1.StartPickingResponse> {
    return this.act('pick', requireId('shipmentId', req.shipmentId), { type: 'StartPicking' }, req.meta, metadata);
  }

  @GrpcMethod('FulfillmentService', 'ScanItem')
  @Requires('pack', 'Shipment')
  scanItem(req: fulfillmentV1.ScanItemRequest, metadata: Metadata): Promise<fulfillmentV1.ScanItemResponse> {
    return this.act('scan', requireId('shipmentId', req.shipmentId), { type: 'ScanItem', sku: requireSku('sku', req.sku), quantity: req.quantity }, req.meta, metadata);
  }

  @GrpcMethod('FulfillmentService', 'ConfirmIntercept')
  @Requires('update', 'Shipment')
  confirmIntercept(req: fulfillmentV1.ConfirmInterceptRequest, metadata: Metadata): Promise<fulfillmentV1.ConfirmInterceptResponse> {
    return this.act('intercept-confirm', requireId('shipmentId', req.shipmentId), { type: 'ConfirmIntercept' }, req.meta, metadata);
  }

  @GrpcMethod('FulfillmentService', 'RejectIntercept')
  @Requires('update', 'Shipment')
  rejectIntercept(req: fulfillmentV1.RejectInterceptRequest, metadata: Metadata): Promise<fulfillmentV1.RejectInterceptResponse> {
    return this.act('intercept-reject', requireId('shipmentId', req.shipmentId), { type: 'RejectIntercept' }, req.meta, metadata);
  }

  private static freezeResponse(f: { orderId: string; frozen: boolean; reason: string | null; override: { actorId: string; reason: string } | null }): fulfillmentV1.GetFreezeResponse {
    return { orderId: f.orderId, frozen: f.frozen, reason: f.reason ?? '', overriddenBy: f.override?.actorId ?? '', overrideReason: f.override?.reason ?? '' };
  }

  @GrpcMethod('FulfillmentService', 'GetFreeze')
  @Requires('read', 'Shipment')
  @ForCustomers()
  async getFreeze(req: fulfillmentV1.GetFreezeRequest, metadata: Metadata): Promise<fulfillmentV1.GetFreezeResponse> {
    const orderId = requireId('orderId', req.orderId);
    requireOwnOrder(requirePrincipal(metadata), orderId);
    // Another shop's order answers as an unknown one: not frozen.
    if (await outOfShops(metadata, () => this.api.service.shopOfOrder(orderId))) return FulfillmentGrpcController.freezeResponse(unknownOrderFreeze(orderId));
    return FulfillmentGrpcController.freezeResponse(await this.api.service.freeze(orderId));
  }

  @GrpcMethod('FulfillmentService', 'OverrideFreeze')
  @Requires('override', 'Order')
  async overrideFreeze(req: fulfillmentV1.OverrideFreezeRequest, metadata: Metadata): Promise<fulfillmentV1.OverrideFreezeResponse> {
    const orderId = requireId('orderId', req.orderId);
    const reason = required(req.reason, 'reason');
    await requireOrderInShops(metadata, this.api.service, orderId);
    // Who lifts the freeze is the verified token's subject (issue #16); meta.actor is ignored.
    const actor = actorFromPrincipal(requirePrincipal(metadata));
    const meta = this.meta('freeze-override', orderId, req.meta, { reason, actor: actor.id }, metadata);
    const f = await this.api.service.overrideFreeze(orderId, { id: actor.id, role: actor.role ?? 'general_manager', ...(actor.name ? { name: actor.name } : {}) }, reason, meta);
    return { freeze: FulfillmentGrpcController.freezeResponse(f) };
  }
}
