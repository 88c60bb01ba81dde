import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import { freezeOf, hasLeft, type FulfillmentCommand, type OpenFulfillment, type Shipment } from '../domain/order-fulfillment.decider';
import type { CarrierRegistry } from './carrier.port';
import type { CommandMeta, FulfillmentHandler, Outcome } from './fulfillment.handler';

/** A parcel as the API shows it. */
export interface ShipmentView {
  shipmentId: string;
  orderId: string;
  warehouseId: string;
  status: Shipment['status'];
  lines: Shipment['lines'];
  scanned: Record<string, number>;
  carrier: string | null;
  waybillNo: string | null;
  trackingNumber: string | null;
  carrierState: string | null;
  carrierStateAt: string | null;
  packedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  shippedAfterStop: boolean;
}

export interface OrderFulfillmentView {
  orderId: string;
  priority: 'normal' | 'high';
  stop: { reason: string; at: string } | null;
  freeze: ReturnType<typeof freezeOf>;
  carrierChoice: OpenFulfillment['carrierChoice'];
  shipments: ShipmentView[];
  returns: OpenFulfillment['returns'];
  version: number;
}

export function shipmentView(orderId: string, sh: Shipment): ShipmentView {
  return {
    shipmentId: sh.shipmentId,
    orderId,
    warehouseId: sh.warehouseId,
    status: sh.status,
    lines: sh.lines,
    scanned: sh.scanned,
    carrier: sh.carrier,
    waybillNo: sh.waybillNo,
    trackingNumber: sh.trackingNumber,
    carrierState: sh.carrierState,
    carrierStateAt: sh.carrierStateAt,
    packedAt: sh.packedAt,
    shippedAt: sh.shippedAt,
    deliveredAt: sh.deliveredAt,
    shippedAfterStop: sh.shippedAfterStop,
  };
}

export function orderView(o: Outcome): OrderFulfillmentView {
  if (o.state.status === 'none') throw new DomainError('FULFILLMENT_NOT_STARTED', `fulfilment of order ${o.orderId} has not started`, { orderId: o.orderId }, 'not_found');
  const s: OpenFulfillment = o.state;
  return { orderId: s.orderId, priority: s.priority, stop: s.stop, freeze: freezeOf(s), carrierChoice: s.carrierChoice, shipments: s.shipments.map((x) => shipmentView(s.orderId, x)), returns: s.returns, version: o.revision };
}

export type ShipmentAction =
  | { type: 'StartPicking' }
  | { type: 'ScanItem'; sku: string; quantity: number }
  | { type: 'PackShipment'; waybillNo?: string; carrier?: string }
  | { type: 'ShipShipment'; carrier?: string; trackingNumber?: string }
  | { type: 'ConfirmIntercept' }
  | { type: 'RejectIntercept' };

/** The warehouse's use cases (REST and gRPC share them): each command on a parcel, queries, the freeze. */
export class FulfillmentService {
  constructor(
    private readonly pool: Pool,
    private readonly handler: FulfillmentHandler,
    private readonly carriers: CarrierRegistry,
    private readonly defaultCarrier: string,
    /** Called after a parcel left the warehouse (tracking subscription); its failure does not undo the handover. */
    private readonly afterShipped: (view: ShipmentView) => Promise<void> = () => Promise.resolve(),
  ) {}

  async orderIdOfShipment(shipmentId: string): Promise<string> {
    const r = await this.pool.query<{ order_id: string }>('SELECT order_id FROM shipments WHERE shipment_id = $1', [shipmentId]);
    if (!r.rows[0]) throw new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');
    return r.rows[0].order_id;
  }

  async order(orderId: string): Promise<OrderFulfillmentView> {
    const { state, revision } = await this.handler.load(orderId);
    return orderView({ orderId, state, events: [], revision });
  }

  async shipment(shipmentId: string): Promise<ShipmentView> {
    const o = await this.order(await this.orderIdOfShipment(shipmentId));
    const sh = o.shipments.find((x) => x.shipmentId === shipmentId);
    if (!sh) throw new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');
    return sh;
  }

  /** Parcels to pick in a warehouse: created or picking, high priority first, oldest first. Stopped parcels are withdrawn. */
  async pickList(warehouseId: string, limit = 100): Promise<ShipmentView[]> {
    const r = await this.pool.query<{ order_id: string; shipment_id: string }>(
      `SELECT order_id, shipment_id FROM shipments WHERE warehouse_id = $1 AND status IN ('created', 'picking')
        ORDER BY (priority = 'high') DESC, created_at, shipment_id LIMIT $2`,
      [warehouseId, limit],
    );
    const out: ShipmentView[] = [];
    for (const row of r.rows) {
      const o = await this.order(row.order_id);
      const sh = o.shipments.find((x) => x.shipmentId === row.shipment_id);
      if (sh && (sh.status === 'created' || sh.status === 'picking')) out.push(sh);
    }
    return out;
  }

  /** Print data of a packed parcel's label (电子面单). */
  async label(shipmentId: string) {
    const sh = await this.shipment(shipmentId);
    if (!sh.waybillNo) throw new DomainError('SHIPMENT_NOT_PACKED', `shipment ${shipmentId} has no waybill yet (pack it first)`, { shipmentId });
    return {
      shipmentId,
      orderId: sh.orderId,
      carrier: sh.carrier,
      waybillNo: sh.waybillNo,
      warehouseId: sh.warehouseId,
      lines: sh.lines,
      // The receiver stays with the platform (encrypted oaid); the carrier prints it from the waybill.
      barcode: { format: 'CODE128', value: sh.waybillNo },
    };
  }

  /** The command a REST / gRPC action becomes; the waybill is asked from the carrier before deciding (I/O outside the decider). */
  async command(orderId: string, shipmentId: string, action: ShipmentAction, at: string): Promise<FulfillmentCommand> {
    switch (action.type) {
      case 'StartPicking':
      case 'ConfirmIntercept':
      case 'RejectIntercept':
        return { type: action.type, shipmentId, at };
      case 'ScanItem':
        return { type: 'ScanItem', shipmentId, sku: action.sku, quantity: action.quantity, at };
      case 'ShipShipment':
        return { type: 'ShipShipment', shipmentId, ...(action.carrier ? { carrier: action.carrier } : {}), ...(action.trackingNumber ? { trackingNumber: action.trackingNumber } : {}), at };
      case 'PackShipment': {
        const current = await this.order(orderId);
        // The warehouse's choice, else the rules' choice if that carrier is configured here, else the default.
        const chosen = current.carrierChoice?.carrier;
        const carrierCode = action.carrier ?? (chosen && this.carriers.codes().includes(chosen) ? chosen : this.defaultCarrier);
        const carrier = this.carriers.get(carrierCode);
        if (action.waybillNo) return { type: 'PackShipment', shipmentId, waybillNo: action.waybillNo, carrier: carrierCode, at };
        const sh = current.shipments.find((x) => x.shipmentId === shipmentId);
        if (!sh) throw new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');
        // Packed already (a retry): keep its waybill, the decider answers with no event.
        if (sh.waybillNo) return { type: 'PackShipment', shipmentId, waybillNo: sh.waybillNo, carrier: sh.carrier ?? carrierCode, at };
        const { waybillNo } = await carrier.createWaybill({ orderId, shipmentId, warehouseId: sh.warehouseId, lines: sh.lines });
        return { type: 'PackShipment', shipmentId, waybillNo, carrier: carrierCode, at };
      }
    }
  }

  /** Runs an action on a parcel; with an idempotency key a repeat gets the first reply. */
  async act(shipmentId: string, action: ShipmentAction, meta: CommandMeta): Promise<ShipmentView> {
    const orderId = await this.orderIdOfShipment(shipmentId);
    const command = await this.command(orderId, shipmentId, action, new Date().toISOString());
    const reply = (o: Outcome) => {
      const view = orderView(o).shipments.find((x) => x.shipmentId === shipmentId);
      if (!view) throw new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');
      return view;
    };
    const view = meta.idempotency ? await this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply) : reply(await this.handler.execute(orderId, command, meta));
    if ((action.type === 'ShipShipment' || action.type === 'RejectIntercept') && view.status === 'shipped') await this.afterShipped(view);
    return view;
  }

  /** The freeze rule for the change-request flow: may this order's address or items still change? */
  async freeze(orderId: string) {
    const o = await this.order(orderId).catch((e: unknown) => {
      if (e instanceof DomainError && e.kind === 'not_found') return null;
      throw e;
    });
    if (!o) return { orderId, frozen: false, reason: null, override: null };
    return { orderId, ...o.freeze, shipped: o.shipments.some((s) => hasLeft({ status: s.status } as Shipment)) };
  }

  private run<T>(orderId: string, command: FulfillmentCommand, meta: CommandMeta, reply: (o: Outcome) => T): Promise<T> {
    if (meta.idempotency) return this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply);
    return this.handler.execute(orderId, command, meta).then(reply);
  }

  /** Opens a return (RMA) for a delivered or refused parcel. */
  async requestReturn(shipmentId: string, input: { rmaId: string; lines: { sku: string; quantity: number }[]; reason: string }, meta: CommandMeta) {
    const orderId = await this.orderIdOfShipment(shipmentId);
    return this.run(orderId, { type: 'RequestReturn', shipmentId, ...input, at: new Date().toISOString() }, meta, (o) => orderView(o).returns.find((r) => r.rmaId === input.rmaId));
  }

  /** The returned parcel arrived: resellable units are restocked through inventory, damaged ones written off. */
  async receiveReturn(orderId: string, rmaId: string, lines: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[], meta: CommandMeta) {
    return this.run(orderId, { type: 'ReceiveReturn', rmaId, lines, at: new Date().toISOString() }, meta, (o) => orderView(o).returns.find((r) => r.rmaId === rmaId));
  }

  async overrideFreeze(orderId: string, actor: { id: string; role: string; name?: string }, reason: string, meta: CommandMeta) {
    const command: FulfillmentCommand = { type: 'OverrideFreeze', actor, reason, at: new Date().toISOString() };
    const reply = (o: Outcome) => ({ orderId, ...orderView(o).freeze });
    if (meta.idempotency) return this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply);
    return reply(await this.handler.execute(orderId, command, meta));
  }
}
