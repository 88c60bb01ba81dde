import type { Pool } from 'pg';

/**
 * The inventory service's own tables (schema `inventory`), next to the event store's schema in
 * database `flowline_inventory`. The stock row is the ledger's snapshot and the authority for
 * concurrent reservations: every writer locks it (through its SKU row) before deciding, and its
 * CHECK constraints make an oversell impossible even for a writer that forgot to.
 * Forward-only versioned migrations, like the event store's.
 */
export const INVENTORY_SCHEMA = 'inventory';

const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'warehouses, SKUs, stock rows, reservations, open reservation lines, HTTP idempotency',
    sql: `
      CREATE TABLE inventory.warehouse (
        warehouse_id text PRIMARY KEY,
        name         text NOT NULL,
        -- Lower is preferred by the allocation strategy.
        priority     integer NOT NULL,
        active       boolean NOT NULL DEFAULT true
      );
      INSERT INTO inventory.warehouse (warehouse_id, name, priority) VALUES
        ('WH-SH', '上海仓', 1), ('WH-GZ', '广州仓', 2), ('WH-BJ', '北京仓', 3);

      -- One row per SKU: its rules, and the per-SKU lock every stock change takes first.
      CREATE TABLE inventory.sku (
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
      CREATE TABLE inventory.stock (
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
      CREATE TABLE inventory.reservation (
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
      CREATE INDEX reservation_due_idx ON inventory.reservation (expires_at) WHERE status = 'reserved' AND expires_at IS NOT NULL;

      -- Open reservation lines per ledger: reserved must always equal their sum (ledger verify).
      CREATE TABLE inventory.reservation_line (
        order_id       text NOT NULL,
        warehouse_id   text NOT NULL,
        line_id        text NOT NULL,
        sku            text NOT NULL,
        reservation_id text NOT NULL,
        quantity       integer NOT NULL CHECK (quantity > 0),
        expires_at     timestamptz,
        PRIMARY KEY (order_id, warehouse_id, line_id)
      );
      CREATE INDEX reservation_line_ledger_idx ON inventory.reservation_line (sku, warehouse_id);

      -- Replies to POSTs that carried an Idempotency-Key.
      CREATE TABLE inventory.http_idempotency (
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
      ALTER TABLE inventory.stock ADD COLUMN stock_exception boolean NOT NULL DEFAULT false;
      ALTER TABLE inventory.stock DROP CONSTRAINT stock_no_oversell;
      ALTER TABLE inventory.stock ADD CONSTRAINT stock_no_oversell CHECK (allow_backorder OR stock_exception OR reserved <= on_hand);
    `,
  },
];

/** Creates or upgrades the inventory schema; safe from several processes at once. */
export async function migrateInventory(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['flowline.inventory.migrate']);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${INVENTORY_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${INVENTORY_SCHEMA}.schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await client.query<{ version: number }>(`SELECT version FROM ${INVENTORY_SCHEMA}.schema_migrations`)).rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${INVENTORY_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
