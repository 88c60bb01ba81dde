import { migrate as migrateEventStore } from '@flowline/eventstore';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { runMigrations, type Migration, type MigrationResult } from '@flowline/platform';
import type { Pool } from 'pg';

/**
 * The inventory service's own tables (schema `inventory`), next to the event store's schema in
 * database `flowline_inventory`. The stock row is the ledger's snapshot and the authority for
 * concurrent reservations: every writer locks it (through its SKU row) before deciding, and its
 * CHECK constraints make an oversell impossible even for a writer that forgot to.
 * Forward-only, checksummed versioned migrations through libs/platform runMigrations (scope
 * `inventory` in flowline_schema_migrations). Versions 1-3 were first applied by an older runner
 * that recorded them in inventory.schema_migrations (kept, never written again): they are written
 * so that they adopt such a database (IF NOT EXISTS; the warehouse seed only into a database
 * without that older record), so every database ends up with the same records.
 */
export const INVENTORY_SCHEMA = 'inventory';

const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'warehouses, SKUs, stock rows, reservations, open reservation lines, HTTP idempotency',
    sql: `
      CREATE SCHEMA IF NOT EXISTS inventory;
      CREATE TABLE IF NOT EXISTS inventory.warehouse (
        warehouse_id text PRIMARY KEY,
        name         text NOT NULL,
        -- Lower is preferred by the allocation strategy.
        priority     integer NOT NULL,
        active       boolean NOT NULL DEFAULT true
      );
      -- Seeded in a new database only: one migrated by the older runner keeps its warehouses as they are.
      INSERT INTO inventory.warehouse (warehouse_id, name, priority)
        SELECT * FROM (VALUES ('WH-SH', '上海仓', 1), ('WH-GZ', '广州仓', 2), ('WH-BJ', '北京仓', 3)) AS seed (warehouse_id, name, priority)
        WHERE to_regclass('inventory.schema_migrations') IS NULL
        ON CONFLICT (warehouse_id) DO NOTHING;

      -- One row per SKU: its rules, and the per-SKU lock every stock change takes first.
      CREATE TABLE IF NOT EXISTS inventory.sku (
        sku                  text PRIMARY KEY,
        name                 text NOT NULL DEFAULT '',
        allow_backorder      boolean NOT NULL DEFAULT false,
        -- Units held back in each warehouse.
        safety_stock         integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
        low_stock_threshold  integer NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
        channel_rules        jsonb NOT NULL DEFAULT '[]',
        -- Revision of stream availability-<sku>, the total available and the ATP last published.
        availability_version bigint NOT NULL DEFAULT -1,
        total_available      integer NOT NULL DEFAULT 0,
        published_atp        jsonb NOT NULL DEFAULT '{}',
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      );

      -- Snapshot of ledger stock-<sku>@<warehouse_id> at revision "version".
      CREATE TABLE IF NOT EXISTS inventory.stock (
        sku             text NOT NULL REFERENCES inventory.sku (sku),
        warehouse_id    text NOT NULL REFERENCES inventory.warehouse (warehouse_id),
        on_hand         integer NOT NULL,
        reserved        integer NOT NULL,
        allow_backorder boolean NOT NULL DEFAULT false,
        version         bigint NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sku, warehouse_id),
        CONSTRAINT stock_on_hand_not_negative CHECK (on_hand >= 0),
        CONSTRAINT stock_reserved_not_negative CHECK (reserved >= 0),
        CONSTRAINT stock_no_oversell CHECK (allow_backorder OR reserved <= on_hand)
      );

      -- Snapshot of stream reservation-<order_id> at revision "version" (-1: imported, no stream yet).
      CREATE TABLE IF NOT EXISTS inventory.reservation (
        order_id       text PRIMARY KEY,
        reservation_id text,
        status         text NOT NULL CHECK (status IN ('reserved', 'refused', 'released', 'committed')),
        channel        text,
        expires_at     timestamptz,
        allocations    jsonb NOT NULL DEFAULT '[]',
        missing        jsonb NOT NULL DEFAULT '[]',
        release_reason text,
        version        bigint NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS reservation_due_idx ON inventory.reservation (expires_at) WHERE status = 'reserved' AND expires_at IS NOT NULL;

      -- Open reservation lines per ledger: reserved must always equal their sum (ledger verify).
      CREATE TABLE IF NOT EXISTS inventory.reservation_line (
        order_id       text NOT NULL,
        warehouse_id   text NOT NULL,
        line_id        text NOT NULL,
        sku            text NOT NULL,
        reservation_id text NOT NULL,
        quantity       integer NOT NULL CHECK (quantity > 0),
        expires_at     timestamptz,
        PRIMARY KEY (order_id, warehouse_id, line_id)
      );
      CREATE INDEX IF NOT EXISTS reservation_line_ledger_idx ON inventory.reservation_line (sku, warehouse_id);

      -- Replies to POSTs that carried an Idempotency-Key.
      CREATE TABLE IF NOT EXISTS inventory.http_idempotency (
        key        text PRIMARY KEY,
        status     integer NOT NULL,
        response   jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'HTTP idempotency: hash of the request, so a key reused for another request is refused',
    sql: `
      -- NULL on replies stored before this column: those keys replay without a comparison.
      ALTER TABLE inventory.http_idempotency ADD COLUMN IF NOT EXISTS request_hash text;
    `,
  },
  {
    version: 3,
    name: 'stock exception: a shipment after a release may leave reserved above on_hand (available negative)',
    sql: `
      -- Set while a ledger is short because units of a released reservation shipped anyway
      -- (StockWentNegative); cleared once on_hand covers reserved again. Reservations still cannot oversell.
      ALTER TABLE inventory.stock ADD COLUMN IF NOT EXISTS stock_exception boolean NOT NULL DEFAULT false;
      ALTER TABLE inventory.stock DROP CONSTRAINT IF EXISTS stock_no_oversell;
      ALTER TABLE inventory.stock ADD CONSTRAINT stock_no_oversell CHECK (allow_backorder OR stock_exception OR reserved <= on_hand);
    `,
  },
  {
    version: 4,
    name: "reservation shop: the order's shop from ReserveStock, so shop-limited staff read their shops' reservations (ADR 0018)",
    sql: `
      -- NULL for reservations taken before ReserveStock carried the shop: every-shop staff only.
      ALTER TABLE inventory.reservation ADD COLUMN IF NOT EXISTS shop_id text;
    `,
  },
];

/** Scope of inventory's own tables in flowline_schema_migrations. */
export const INVENTORY_MIGRATION_SCOPE = 'inventory';

/** Inventory's migrations in the runner's shape. Never edit a released version: append the next. */
export function inventoryMigrations(): Migration[] {
  return MIGRATIONS.map((m) => ({ version: m.version, name: m.name, statements: [m.sql] }));
}

/**
 * Creates or upgrades the inventory schema and libs/messaging's tables (scopes `inventory`,
 * `messaging`); safe from several processes at once (runMigrations' advisory lock). Returns the
 * inventory versions it applied.
 */
export async function migrateInventory(pool: Pool): Promise<number[]> {
  const transactions = pgTransactions(pool);
  const inventory = await runMigrations(transactions, INVENTORY_MIGRATION_SCOPE, inventoryMigrations());
  await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
  return inventory.applied;
}

/** Every migration scope of inventory's database (migrate-only entry `main.js migrate`): event store, inventory, messaging. */
export async function migrateInventoryDatabase(pool: Pool): Promise<{ eventstore: number[]; inventory: MigrationResult; messaging: MigrationResult }> {
  const eventstore = await migrateEventStore(pool);
  const transactions = pgTransactions(pool);
  const inventory = await runMigrations(transactions, INVENTORY_MIGRATION_SCOPE, inventoryMigrations());
  const messaging = await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
  return { eventstore, inventory, messaging };
}
