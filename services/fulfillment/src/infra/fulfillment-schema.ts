/**
 * Fulfillment's own tables (the events are in the event store's schema):
 * - `shipments`: one row per parcel, written in the same transaction as the events that change it
 *   (pick lists, the simulated carrier and lookups by tracking number read it);
 * - `http_idempotency`: replies of commands sent with an Idempotency-Key / request_id.
 */
export const FULFILLMENT_SCHEMA = `
CREATE TABLE IF NOT EXISTS shipments (
  shipment_id      text PRIMARY KEY,
  order_id         text NOT NULL,
  warehouse_id     text NOT NULL,
  status           text NOT NULL,
  priority         text NOT NULL,
  lines            jsonb NOT NULL,
  scanned          jsonb NOT NULL,
  carrier          text,
  waybill_no       text,
  tracking_number  text,
  carrier_state    text,
  carrier_state_at text,
  packed_at        text,
  shipped_at       text,
  delivered_at     text,
  created_at       text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  stream_revision  integer NOT NULL
);
CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id);
CREATE INDEX IF NOT EXISTS shipments_pick ON shipments (warehouse_id, status);
CREATE INDEX IF NOT EXISTS shipments_carrier ON shipments (carrier, status);
CREATE TABLE IF NOT EXISTS http_idempotency (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
`;
