import { migrate as migrateEventStore } from '@flowline/eventstore';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS, runMigrations, type Migration, type MigrationResult } from '@flowline/platform';
import type { Pool } from 'pg';
import { migratePortal } from '../portal/portal.store';
import { orderIntakeConfigFromEnv } from './order-intake.config';

/**
 * order-intake's own tables, next to the event store's schema in database flowline_order_intake:
 * - order_channel_claims: one row per (channel, channel order id), written in the transaction of
 *   the order's first append; its primary key is what makes a duplicate channel order impossible;
 * - order_summaries: the read table behind lists and the reservation timer, written in the same
 *   transaction as every append to the order (an inline projection: never behind the stream);
 * - idempotency_keys: stored responses of POST requests by (scope, Idempotency-Key).
 * The relay's checkpoints and the consumer inbox are created by libs/messaging.
 */
// FROZEN: released as migration order-intake v1 (checksummed; an edit makes every migrated
// database refuse to start). A change goes into orderIntakeMigrations() as v2, v3 ...
export const ORDER_INTAKE_DDL = [
  `CREATE TABLE IF NOT EXISTS order_channel_claims (
     channel text NOT NULL,
     channel_order_id text NOT NULL,
     order_id text NOT NULL UNIQUE,
     claimed_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (channel, channel_order_id)
   )`,
  `CREATE TABLE IF NOT EXISTS order_summaries (
     order_id text PRIMARY KEY,
     channel text NOT NULL,
     channel_order_id text NOT NULL,
     shop_id text NOT NULL,
     stage text NOT NULL,
     on_hold boolean NOT NULL,
     in_exception boolean NOT NULL,
     grand_total bigint NOT NULL,
     currency text NOT NULL,
     placed_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL,
     revision integer NOT NULL,
     movable_since timestamptz NOT NULL,
     reserved boolean NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS order_summaries_channel_idx ON order_summaries (channel, order_id DESC)`,
  `CREATE INDEX IF NOT EXISTS order_summaries_stage_idx ON order_summaries (stage, order_id DESC)`,
  `CREATE INDEX IF NOT EXISTS order_summaries_awaiting_stock_idx ON order_summaries (movable_since)
     WHERE stage = 'paid' AND NOT reserved AND NOT on_hold AND NOT in_exception`,
  `CREATE INDEX IF NOT EXISTS order_summaries_delivered_idx ON order_summaries (movable_since, order_id)
     WHERE stage = 'delivered' AND NOT on_hold AND NOT in_exception`,
  // Presale (预售) timer: the order's next presale deadline (balance due by, or the ship date once settled); NULL when none.
  `ALTER TABLE order_summaries ADD COLUMN IF NOT EXISTS presale_next_at timestamptz`,
  `CREATE INDEX IF NOT EXISTS order_summaries_presale_idx ON order_summaries (presale_next_at) WHERE presale_next_at IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS idempotency_keys (
     scope text NOT NULL,
     key text NOT NULL,
     request_hash text NOT NULL,
     status integer NOT NULL,
     body jsonb,
     headers jsonb,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (scope, key)
   )`,
];

/** Scope of order-intake's own tables in flowline_schema_migrations. */
export const ORDER_INTAKE_MIGRATION_SCOPE = 'order-intake';

/**
 * order-intake's tables as versioned, checksummed migrations (libs/platform runMigrations).
 * v1 is ORDER_INTAKE_DDL exactly as boot ran it before (IF NOT EXISTS kept: an existing database
 * is adopted). A change is a new version appended here, never an edit of a released one.
 */
export function orderIntakeMigrations(): Migration[] {
  return [
    { version: 1, name: 'baseline: order_channel_claims, order_summaries (+ presale_next_at), idempotency_keys', statements: ORDER_INTAKE_DDL },
    { version: 2, name: 'order_summaries.short_skus: orders waiting for stock (缺货), backfilled from the order streams', statements: SHORT_SKUS_V2 },
  ];
}

/**
 * v2: `short_skus`, the SKUs an order waiting for stock was short of (application/order-summary.ts
 * shortSkusOf: an open STOCK_SHORTAGE exception before reservation, not held, no refund requested),
 * for the shortage retry. The backfill reads the order streams: the order's latest exception event
 * is a STOCK_SHORTAGE flag, and its latest OrderStockShortage names the SKUs. It can list an order
 * the projection would not (a refund requested, a short SKU a change dropped): the retry checks
 * every listed order on its stream and clears such a row. The event store is found by its table,
 * not by ORDER_EVENTSTORE_SCHEMA, so the migration's text (and checksum) is the same everywhere;
 * an event store not created yet has no orders to backfill.
 */
export const SHORT_SKUS_BACKFILL = `DO $backfill$
   DECLARE es name;
   BEGIN
     FOR es IN SELECT c.table_schema FROM information_schema.columns c
                WHERE c.table_name = 'events'
                  AND (c.column_name, c.data_type) IN (('global_position', 'bigint'), ('transaction_id', 'xid8'), ('stream_id', 'text'),
                                                       ('stream_position', 'bigint'), ('event_type', 'text'), ('data', 'jsonb'))
                GROUP BY c.table_schema HAVING count(*) = 6
     LOOP
       CONTINUE WHEN NOT has_table_privilege(format('%I.events', es), 'SELECT');
       EXECUTE format($q$
         UPDATE order_summaries o SET short_skus = w.skus
           FROM (SELECT s.order_id,
                        (SELECT array_agg(DISTINCT (m->>'sku') COLLATE "C" ORDER BY (m->>'sku') COLLATE "C") FROM jsonb_array_elements(sh.data->'missing') m
                          WHERE jsonb_typeof(m) = 'object' AND coalesce(m->>'sku', '') <> '') AS skus
                   FROM order_summaries s
                   CROSS JOIN LATERAL (SELECT e.event_type, e.data FROM %1$I.events e
                                        WHERE e.stream_id = 'order-' || s.order_id AND e.event_type IN ('OrderExceptionFlagged', 'OrderExceptionResolved')
                                        ORDER BY e.stream_position DESC LIMIT 1) ex
                   CROSS JOIN LATERAL (SELECT e.data FROM %1$I.events e
                                        WHERE e.stream_id = 'order-' || s.order_id AND e.event_type = 'OrderStockShortage'
                                        ORDER BY e.stream_position DESC LIMIT 1) sh
                  WHERE s.in_exception AND NOT s.reserved AND NOT s.on_hold AND s.stage IN ('placed', 'paid') AND s.short_skus IS NULL
                    AND ex.event_type = 'OrderExceptionFlagged' AND ex.data->>'code' = 'STOCK_SHORTAGE'
                    AND jsonb_typeof(sh.data->'missing') = 'array') w
          WHERE o.order_id = w.order_id AND w.skus IS NOT NULL$q$, es);
     END LOOP;
   END $backfill$`;

const SHORT_SKUS_V2 = [
  `ALTER TABLE order_summaries ADD COLUMN IF NOT EXISTS short_skus text[]`,
  `CREATE INDEX IF NOT EXISTS order_summaries_short_idx ON order_summaries (placed_at, order_id) WHERE short_skus IS NOT NULL`,
  SHORT_SKUS_BACKFILL,
];

/**
 * order-intake's tables and libs/messaging's (scopes `order-intake`, `messaging`) under
 * runMigrations' advisory lock: replicas booting together wait for each other.
 */
export async function migrateOrderIntake(pool: Pool): Promise<void> {
  const transactions = pgTransactions(pool);
  await runMigrations(transactions, ORDER_INTAKE_MIGRATION_SCOPE, orderIntakeMigrations());
  await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
}

/**
 * Every migration scope of order-intake's database (migrate-only entry `main.js migrate`): event
 * store (ORDER_EVENTSTORE_SCHEMA), order-intake, order-intake.portal, messaging, platform.rule-documents
 * (the versioned flow rules, ADR 0021).
 */
export async function migrateOrderIntakeDatabase(pool: Pool): Promise<{ eventstore: number[]; 'order-intake': MigrationResult; 'order-intake.portal': string; messaging: MigrationResult; 'platform.rule-documents': MigrationResult }> {
  const eventstore = await migrateEventStore(pool, orderIntakeConfigFromEnv().eventStoreSchema);
  const transactions = pgTransactions(pool);
  const orderIntake = await runMigrations(transactions, ORDER_INTAKE_MIGRATION_SCOPE, orderIntakeMigrations());
  await migratePortal(pool);
  const messaging = await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
  const ruleDocuments = await runMigrations(transactions, RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS);
  return { eventstore, 'order-intake': orderIntake, 'order-intake.portal': 'done', messaging, 'platform.rule-documents': ruleDocuments };
}
