import { Injectable } from '@nestjs/common';
import type { CarrierState } from '@flowline/contracts';
import type { CommandMeta } from '../application/fulfillment.handler';
import { FulfillmentService, orderView, type ShipmentView } from '../application/fulfillment.service';
import { FulfillmentRuntime } from '../infra/fulfillment-runtime';

/** What REST and gRPC share: the service and how an edge builds a command's metadata. */
@Injectable()
export class FulfillmentApi {
  private svc?: FulfillmentService;

  constructor(private readonly runtime: FulfillmentRuntime) {}

  get service(): FulfillmentService {
    this.svc ??= new FulfillmentService(this.runtime.pool, this.runtime.handler, this.runtime.carriers, this.runtime.settings.defaultCarrier);
    return this.svc;
  }

  /** Metadata; with a key, the command is idempotent per operation and target (`pack:<shipment>:<key>`). */
  meta(op: string, target: string, key: string | undefined, request: unknown, correlationId?: string): CommandMeta {
    const m = this.runtime.meta(correlationId ? { correlationId } : {});
    return key ? { ...m, idempotency: { key: `${op}:${target}:${key}`, request } } : m;
  }

  async carrierUpdate(shipmentId: string, update: { state: CarrierState; description: string; at: string }, meta: CommandMeta): Promise<ShipmentView> {
    const orderId = await this.service.orderIdOfShipment(shipmentId);
    const command = { type: 'RecordCarrierUpdate' as const, shipmentId, ...update };
    const reply = (o: Parameters<typeof orderView>[0]) => orderView(o).shipments.find((x) => x.shipmentId === shipmentId) as ShipmentView;
    if (meta.idempotency) return this.runtime.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply);
    return reply(await this.runtime.handler.execute(orderId, command, meta));
  }
}
