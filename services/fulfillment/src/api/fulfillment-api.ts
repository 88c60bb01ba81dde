import { Injectable } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import type { Actor, CarrierState } from '@flowline/contracts';
import type { CarrierUpdate } from '../application/carrier.port';
import type { CarrierConfigs } from '../infra/carriers/carrier-config';
import type { CommandMeta } from '../application/fulfillment.handler';
import { FulfillmentService, orderView, type ShipmentView } from '../application/fulfillment.service';
import { FulfillmentRuntime } from '../infra/fulfillment-runtime';
import { chooseCarrier } from '../domain/carrier-rules';

/** What REST and gRPC share: the service and how an edge builds a command's metadata. */
@Injectable()
export class FulfillmentApi {
  private svc?: FulfillmentService;
  private readonly log = new Logger('fulfillment-api');

  constructor(private readonly runtime: FulfillmentRuntime) {}

  get service(): FulfillmentService {
    this.svc ??= new FulfillmentService(this.runtime.pool, this.runtime.handler, this.runtime.carriers, this.runtime.settings.defaultCarrier, (view) => this.runtime.afterShipped(view), this.runtime.merges, (input) =>
      chooseCarrier(this.runtime.carrierRules, input),
    );
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

  newId(): string {
    return this.runtime.newId();
  }

  get carrierConfigs(): CarrierConfigs {
    return this.runtime.carrierConfigs;
  }

  /**
   * A carrier push: finds the parcel by tracking number and records the state; false when no parcel
   * has it. A merged parcel (合单) is one tracking number for several orders: each order's parcel moves.
   */
  async applyCarrierUpdate(u: CarrierUpdate, actor: Actor): Promise<boolean> {
    const r = await this.runtime.pool.query<{ order_id: string; shipment_id: string }>(
      'SELECT order_id, shipment_id FROM shipments WHERE tracking_number = $1 OR waybill_no = $1 ORDER BY order_id, shipment_id',
      [u.trackingNumber],
    );
    if (r.rows.length === 0) return false;
    for (const row of r.rows) {
      await this.runtime.handler.execute(
        row.order_id,
        { type: 'RecordCarrierUpdate', shipmentId: row.shipment_id, state: u.state, description: u.description, at: u.at },
        this.runtime.meta({ actor }),
      );
    }
    return true;
  }

  async resubscribe(company: string, number: string): Promise<void> {
    await this.runtime.tracking?.subscribe(company, number).catch((e: unknown) => this.log.warn(`Kuaidi100 resubscribe ${number}: ${(e as Error).message}`));
  }
}
