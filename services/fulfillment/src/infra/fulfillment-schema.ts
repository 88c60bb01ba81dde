import { migrate as migrateEventStore } from '@flowline/eventstore';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { runMigrations, type Migration, type MigrationResult } from '@flowline/platform';
import type { Pool } from 'pg';

/**
 * Fulfillment's own tables (the events are in the event store's schema):
 * - `shipments`: one row per parcel, written in the same transaction as the events that change it
 *   (pick lists, the simulated carrier and lookups by tracking number read it);
 * - `merge_parcels`: one row per merged parcel (合单), written with its merge group's events;
 * - `http_idempotency`: replies of commands sent with an Idempotency-Key / request_id;
 * - `restocks`: resellable returned units to receive into inventory (written with ReturnReceived, sent by a job);
 * - `webhook_*`: outbound push subscriptions, one delivery per (subscription, event) written with
 *   the events (outbox), and every attempt (the delivery log).
 */
// FROZEN: released as migration fulfillment v1 (checksummed; an edit makes every migrated database
// refuse to start). A change goes into fulfillmentMigrations() as v2, v3 ...
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
-- Merge (合单, ADR 0013): the merged parcel a parcel travels in, and its weight.
ALTER TABLE shipments ADD COLUMN IF NOT EXISTS merge_parcel_id text;
ALTER TABLE shipments ADD COLUMN IF NOT EXISTS weight_grams integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS shipments_merge ON shipments (merge_parcel_id) WHERE merge_parcel_id IS NOT NULL;
-- One row per merged parcel (written with the merge group's events): its group (the stream), status, orders.
CREATE TABLE IF NOT EXISTS merge_parcels (
  parcel_id        text PRIMARY KEY,
  group_key        text NOT NULL,
  shop_id          text NOT NULL,
  status           text NOT NULL,
  order_ids        jsonb NOT NULL,
  window_ends_at   text NOT NULL,
  stream_revision  integer NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id               text PRIMARY KEY,
  url              text NOT NULL,
  event_types      text[] NOT NULL,
  secret           text NOT NULL,
  -- The secret before the last rotation: deliveries are signed with both until it expires.
  previous_secret  text,
  previous_until   timestamptz,
  description      text,
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id               text PRIMARY KEY,
  subscription_id  text NOT NULL REFERENCES webhook_subscriptions (id),
  order_id         text NOT NULL,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  payload          text NOT NULL,
  seq              bigserial,
  status           text NOT NULL DEFAULT 'pending',
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  claimed_until    timestamptz,
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_lane ON webhook_deliveries (subscription_id, order_id, seq);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id  text NOT NULL REFERENCES webhook_deliveries (id),
  attempt      integer NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  status_code  integer,
  error        text,
  duration_ms  integer NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
CREATE TABLE IF NOT EXISTS restocks (
  rma_id        text NOT NULL,
  sku           text NOT NULL,
  warehouse_id  text NOT NULL,
  quantity      integer NOT NULL,
  order_id      text NOT NULL,
  status        text NOT NULL DEFAULT 'pending',
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  done_at       timestamptz,
  PRIMARY KEY (rma_id, sku, warehouse_id)
);
CREATE TABLE IF NOT EXISTS http_idempotency (
  key          text PRIMARY KEY,
  request_hash text NOT NULL,
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
`;

/** Scope of fulfillment's own tables in flowline_schema_migrations. */
export const FULFILLMENT_MIGRATION_SCOPE = 'fulfillment';

/**
 * Fulfillment's own tables as versioned, checksummed migrations (libs/platform runMigrations).
 * v1 is the schema exactly as boot created it before (IF NOT EXISTS kept: an existing database is
 * adopted). Never edit a released version: append v2, v3 ...
 */
export function fulfillmentMigrations(): Migration[] {
  return [
    { version: 1, name: 'baseline: shipments, merge_parcels, webhook subscriptions/deliveries/attempts, restocks, http_idempotency', statements: [FULFILLMENT_SCHEMA] },
    // The order's shop on its parcel rows, for the per-warehouse lists of a shop-limited token (ADR 0018).
    // Rows of orders started before stay NULL until their next change writes the row again (the state kept no shop before FulfillmentStarted carried one).
    { version: 2, name: 'shipments.shop_id', statements: ['ALTER TABLE shipments ADD COLUMN IF NOT EXISTS shop_id text'] },
    // Why the order is on hold or flagged (挂起 / 异常) after release; NULL when not held. Held parcels leave the pick list (HoldFulfillment).
    { version: 3, name: 'shipments.hold_reason', statements: ['ALTER TABLE shipments ADD COLUMN IF NOT EXISTS hold_reason text'] },
  ];
}

/**
 * Every migration scope of fulfillment's database: the event store's schema, fulfillment's tables
 * and libs/messaging's (inbox, relay checkpoints and leases). Called at boot (replicas booting
 * together wait on the advisory lock) and by the migrate-only entry (`main.js migrate`).
 */
export async function migrateFulfillment(pool: Pool): Promise<{ eventstore: number[]; fulfillment: MigrationResult; messaging: MigrationResult }> {
  const eventstore = await migrateEventStore(pool);
  const transactions = pgTransactions(pool);
  const fulfillment = await runMigrations(transactions, FULFILLMENT_MIGRATION_SCOPE, fulfillmentMigrations());
  const messaging = await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
  return { eventstore, fulfillment, messaging };
}
