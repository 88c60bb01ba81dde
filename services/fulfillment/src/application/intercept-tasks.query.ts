import type { Pool } from 'pg';
import { IN_SHOPS } from './shipment-rows';

export interface InterceptTask {
  orderId: string;
  shipmentId: string;
  warehouseId: string;
  carrier: string | null;
  waybillNo: string | null;
  packedAt: string | null;
  /** when the parcel's row last changed (the intercept request) */
  since: string;
}

/**
 * The warehouse's intercept tasks: parcels packed (or handed over) whose order was stopped, waiting
 * for a person to pull them back (confirm) or report they are gone (reject). Oldest first: the longer
 * a parcel waits, the likelier it leaves with the carrier.
 */
export async function interceptTasks(pool: Pool, warehouseId: string, limit: number, shops?: readonly string[]): Promise<InterceptTask[]> {
  const r = await pool.query<{ order_id: string; shipment_id: string; warehouse_id: string; carrier: string | null; waybill_no: string | null; packed_at: string | null; updated_at: Date }>(
    `SELECT order_id, shipment_id, warehouse_id, carrier, waybill_no, packed_at, updated_at FROM shipments
      WHERE warehouse_id = $1 AND status = 'intercept_requested' AND ${IN_SHOPS('shop_id', 3)} ORDER BY updated_at, shipment_id LIMIT $2`,
    [warehouseId, limit, shops ?? null],
  );
  return r.rows.map((x) => ({ orderId: x.order_id, shipmentId: x.shipment_id, warehouseId: x.warehouse_id, carrier: x.carrier, waybillNo: x.waybill_no, packedAt: x.packed_at, since: x.updated_at.toISOString() }));
}
