import type { SqlClient } from '@flowline/eventstore';
import { namedStatement } from '@flowline/messaging';
import type { FulfillmentState } from '../domain/order-fulfillment.decider';

export interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  warehouse_id: string;
  status: string;
  priority: string;
  lines: unknown;
  scanned: unknown;
  carrier: string | null;
  waybill_no: string | null;
  tracking_number: string | null;
  carrier_state: string | null;
  carrier_state_at: string | null;
  packed_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  created_at: string;
  stream_revision: number;
  merge_parcel_id: string | null;
  weight_grams: number;
  /** The order's shop (from StartFulfillment); null for orders started before it was kept. */
  shop_id: string | null;
  /** Why the order is on hold (挂起 / 异常) after release; null when it is not. */
  hold_reason: string | null;
}

/**
 * SQL condition: the row's shop is one of `$<param>` (text[]), or the caller sees every shop
 * (`$<param>` NULL), or the row has no shop (parcels of orders started before shops were kept stay visible).
 */
export const IN_SHOPS = (column: string, param: number): string => `($${param}::text[] IS NULL OR ${column} IS NULL OR ${column} = ANY($${param}::text[]))`;

/** The parcel rows of an order's state (pure). */
export function shipmentRows(s: FulfillmentState, revision: number): ShipmentRow[] {
  if (s.status === 'none') return [];
  return s.shipments.map((sh) => ({
    shipment_id: sh.shipmentId,
    order_id: s.orderId,
    warehouse_id: sh.warehouseId,
    status: sh.status,
    priority: s.priority,
    lines: sh.lines,
    scanned: sh.scanned,
    carrier: sh.carrier,
    waybill_no: sh.waybillNo,
    tracking_number: sh.trackingNumber,
    carrier_state: sh.carrierState,
    carrier_state_at: sh.carrierStateAt,
    packed_at: sh.packedAt,
    shipped_at: sh.shippedAt,
    delivered_at: sh.deliveredAt,
    created_at: s.startedAt ?? '',
    stream_revision: revision,
    merge_parcel_id: sh.mergeParcelId,
    weight_grams: sh.weightGrams,
    shop_id: s.shopId,
    hold_reason: s.hold?.reason ?? null,
  }));
}

const COLUMNS = [
  'shipment_id',
  'order_id',
  'warehouse_id',
  'status',
  'priority',
  'lines',
  'scanned',
  'carrier',
  'waybill_no',
  'tracking_number',
  'carrier_state',
  'carrier_state_at',
  'packed_at',
  'shipped_at',
  'delivered_at',
  'created_at',
  'stream_revision',
  'merge_parcel_id',
  'weight_grams',
  'shop_id',
  'hold_reason',
] as const;

/** Column types of `shipments` for the one-statement upsert (jsonb_to_recordset). */
const TYPES: Record<(typeof COLUMNS)[number], string> = {
  shipment_id: 'text',
  order_id: 'text',
  warehouse_id: 'text',
  status: 'text',
  priority: 'text',
  lines: 'jsonb',
  scanned: 'jsonb',
  carrier: 'text',
  waybill_no: 'text',
  tracking_number: 'text',
  carrier_state: 'text',
  carrier_state_at: 'text',
  packed_at: 'text',
  shipped_at: 'text',
  delivered_at: 'text',
  created_at: 'text',
  stream_revision: 'integer',
  merge_parcel_id: 'text',
  weight_grams: 'integer',
  shop_id: 'text',
  hold_reason: 'text',
};

/**
 * The one-statement upsert of parcel rows given as a JSON array in parameter `$<param>` (a row
 * older than the stored one, by stream revision, changes nothing). Exported so the webhook outbox
 * can go in the same statement (infra/webhooks/webhook-outbox.ts).
 */
export const shipmentUpsertSql = (param = 1): string => `INSERT INTO shipments (${COLUMNS.join(', ')}, updated_at)
  SELECT ${COLUMNS.map((c) => `r.${c}`).join(', ')}, now() FROM jsonb_to_recordset($${param}::jsonb) AS r(${COLUMNS.map((c) => `${c} ${TYPES[c]}`).join(', ')})
  ON CONFLICT (shipment_id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'shipment_id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')}, updated_at = CASE WHEN shipments.status IS DISTINCT FROM EXCLUDED.status OR shipments.carrier_state IS DISTINCT FROM EXCLUDED.carrier_state THEN now() ELSE shipments.updated_at END
  WHERE shipments.stream_revision <= EXCLUDED.stream_revision`;

const UPSERT = shipmentUpsertSql(1);

/** Every parcel row of an order in ONE statement (an order has one parcel per warehouse, more after a restart). */
export async function upsertShipmentRows(client: SqlClient, rows: ShipmentRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(namedStatement(UPSERT, [JSON.stringify(rows)]));
}
