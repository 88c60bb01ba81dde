import type { EventEnvelope, FulfillmentEventDataMap, OrderEventDataMap } from '@flowline/contracts';
import type { SqlClient } from '@flowline/eventstore';
import type { Pool } from 'pg';
import type { ChangeHolding, OrderSnapshot } from '../domain/change-request';

/**
 * The stages the snapshot records: those an order never leaves for a stage a change may be made
 * in (CHANGEABLE_STAGES in domain/change-request.ts), i.e. the ones that refuse a change request.
 * The changeable stages between placed and packed (paid, stock_reserved, awaiting_approval,
 * ready_to_ship, packed) are not recorded: they decide nothing here (the freeze comes from
 * ShipmentPacked), and recording them cost a transaction per event per order (issue #10). So
 * `stage` reads `placed` while the order may still change, else the stage that closed it.
 */
export const RECORDED_STAGE_OF: Partial<Record<keyof OrderEventDataMap, string>> = {
  OrderShipped: 'shipped',
  OrderDelivered: 'delivered',
  OrderCancelled: 'cancelled',
  OrderRefunded: 'refunded',
  OrderArchived: 'archived',
};

/**
 * The order snapshot approval keeps from orders.events.v1 and fulfillment.events.v1 (in the
 * consumer's transaction): what change requests are diffed against and frozen by.
 */
export class OrderSnapshots {
  constructor(private readonly pool: Pool) {}

  async get(orderId: string): Promise<OrderSnapshot | null> {
    const { rows } = await this.pool.query<{ order_id: string; channel: string; stage: string; lines: OrderSnapshot['lines']; totals: OrderSnapshot['totals']; shipping_address: OrderSnapshot['shippingAddress']; packed_shipments: string[]; shop_id: string | null }>(
      `SELECT * FROM order_snapshots WHERE order_id = $1`,
      [orderId],
    );
    const r = rows[0];
    return r ? { orderId: r.order_id, channel: r.channel, stage: r.stage, lines: r.lines, totals: r.totals, shippingAddress: r.shipping_address, packedShipments: r.packed_shipments, shopId: r.shop_id } : null;
  }

  /** The units applied changes added to the order, in their own reservations, oldest first. */
  async holdings(client: SqlClient, orderId: string): Promise<ChangeHolding[]> {
    const { rows } = await client.query<{ change_holdings: ChangeHolding[] }>(`SELECT change_holdings FROM order_snapshots WHERE order_id = $1`, [orderId]);
    return rows[0]?.change_holdings ?? [];
  }

  async setHoldings(client: SqlClient, orderId: string, holdings: readonly ChangeHolding[]): Promise<void> {
    await client.query(`UPDATE order_snapshots SET change_holdings = $2, updated_at = now() WHERE order_id = $1`, [orderId, JSON.stringify(holdings)]);
  }

  /** Applies one order or fulfillment event; returns true when it was one it keeps. */
  async apply(client: SqlClient, envelope: EventEnvelope): Promise<boolean> {
    const type = envelope.type;
    if (type === 'OrderPlaced') {
      const d = envelope.data as OrderEventDataMap['OrderPlaced'];
      await client.query(
        `INSERT INTO order_snapshots (order_id, channel, stage, lines, totals, shipping_address, shop_id) VALUES ($1, $2, 'placed', $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING`,
        [d.orderId, d.channel, JSON.stringify(d.lines), JSON.stringify(d.totals), JSON.stringify(d.shippingAddress), d.shopId],
      );
      return true;
    }
    if (type === 'ShipmentPacked') {
      const d = envelope.data as FulfillmentEventDataMap['ShipmentPacked'];
      await client.query(`UPDATE order_snapshots SET packed_shipments = array_append(packed_shipments, $2), updated_at = now() WHERE order_id = $1 AND NOT ($2 = ANY(packed_shipments))`, [d.orderId, d.shipmentId]);
      return true;
    }
    if (type === 'OrderChanged') {
      const d = envelope.data as { orderId: string; lines: unknown; totals: unknown; shippingAddress?: unknown };
      await client.query(`UPDATE order_snapshots SET lines = $2, totals = $3, shipping_address = COALESCE($4, shipping_address), updated_at = now() WHERE order_id = $1`, [
        d.orderId,
        JSON.stringify(d.lines),
        JSON.stringify(d.totals),
        d.shippingAddress ? JSON.stringify(d.shippingAddress) : null,
      ]);
      return true;
    }
    const stage = RECORDED_STAGE_OF[type as keyof OrderEventDataMap];
    if (!stage) return false;
    await client.query(`UPDATE order_snapshots SET stage = $2, updated_at = now() WHERE order_id = $1`, [(envelope.data as { orderId: string }).orderId, stage]);
    return true;
  }
}
