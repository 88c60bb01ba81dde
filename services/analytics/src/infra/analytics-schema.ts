import { pgTransactions, quoteTable } from '@flowline/messaging';
import { runMigrations, type Migration } from '@flowline/platform';
import type { Pool } from 'pg';

/** The live schema in analytics' database. Rebuilds fill `analytics_rb_<id>` and swap it in under this name. */
export const ANALYTICS_SCHEMA = 'analytics';

/** Advisory lock every live write takes shared and the swap takes exclusively (docs/adr/0007). */
export const ANALYTICS_SWAP_LOCK = 0x0a7a_0001;
/** One rebuild at a time across processes. */
export const ANALYTICS_REBUILD_LOCK = 0x0a7a_0002;

export type FactTable = 'order_fact' | 'order_line' | 'refund' | 'allocation' | 'stock_level' | 'shipment' | 'applied_event' | 'checkpoint';

export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  return `"${schema}"`;
}

export function table(schema: string, name: FactTable): string {
  return quoteTable(`${schema}.${name}`);
}

/**
 * The fact tables of one analytics schema (live and rebuild schemas are created from this one
 * definition). Facts are kept at the grain of the events; every figure (sales by dimension, RFM,
 * pairs, forecasts) is computed from them at query time, so a new figure needs no rebuild.
 */
export function analyticsSchemaDdl(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}."order_fact" (
      "order_id" text PRIMARY KEY,
      "channel" text NOT NULL,
      "channel_order_id" text NOT NULL,
      "shop_id" text NOT NULL,
      "customer_key" text NOT NULL,
      "province" text NOT NULL,
      "placed_at" timestamptz NOT NULL,
      "currency" text NOT NULL,
      "items_total" bigint NOT NULL,
      "shipping_fee" bigint NOT NULL,
      "order_discount" bigint NOT NULL,
      "grand_total" bigint NOT NULL,
      "paid_amount" bigint NOT NULL DEFAULT 0,
      "paid_at" timestamptz,
      "refunded_amount" bigint NOT NULL DEFAULT 0,
      "cancelled_at" timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS "order_fact_placed_at" ON ${s}."order_fact" ("placed_at")`,
    `CREATE INDEX IF NOT EXISTS "order_fact_channel_order" ON ${s}."order_fact" ("channel", "channel_order_id")`,
    `CREATE TABLE IF NOT EXISTS ${s}."order_line" (
      "order_id" text NOT NULL,
      "line_id" text NOT NULL,
      "sku" text NOT NULL,
      "quantity" integer NOT NULL,
      "unit_price" bigint NOT NULL,
      "line_discount" bigint NOT NULL,
      PRIMARY KEY ("order_id", "line_id")
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."refund" (
      "event_id" text PRIMARY KEY,
      "order_id" text NOT NULL,
      "amount" bigint NOT NULL,
      "refunded_at" timestamptz NOT NULL,
      "after_shipment" boolean NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."allocation" (
      "order_id" text NOT NULL,
      "line_id" text NOT NULL,
      "sku" text NOT NULL,
      "warehouse_id" text NOT NULL,
      "quantity" integer NOT NULL,
      PRIMARY KEY ("order_id", "line_id", "warehouse_id")
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."stock_level" (
      "sku" text NOT NULL,
      "warehouse_id" text NOT NULL,
      "on_hand" integer NOT NULL,
      "reserved" integer NOT NULL,
      "available" integer NOT NULL,
      PRIMARY KEY ("sku", "warehouse_id")
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."shipment" (
      "order_id" text NOT NULL,
      "shipment_id" text NOT NULL,
      "warehouse_id" text,
      "packed_at" timestamptz NOT NULL,
      PRIMARY KEY ("order_id", "shipment_id")
    )`,
    // Applied once per schema whatever the consumer group: a rebuild's rows and the live
    // consumer's redeliveries after a swap meet here.
    `CREATE TABLE IF NOT EXISTS ${s}."applied_event" ("event_id" text PRIMARY KEY)`,
    `CREATE TABLE IF NOT EXISTS ${s}."checkpoint" (
      "topic" text NOT NULL,
      "partition" integer NOT NULL,
      "offset" bigint NOT NULL,
      PRIMARY KEY ("topic", "partition")
    )`,
  ];
}

/**
 * Imported data (settlement files) lives in its own schema: it does not come from the topics, so a
 * rebuild, which replaces schema `analytics`, must never touch it.
 */
export const IMPORT_SCHEMA = 'analytics_import';

export function importSchemaDdl(): string[] {
  const s = quoteSchema(IMPORT_SCHEMA);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}."settlement_file" (
      "file_id" text PRIMARY KEY,
      "platform" text NOT NULL,
      "file_name" text NOT NULL,
      "encoding" text NOT NULL,
      "entries" integer NOT NULL,
      "imported_at" timestamptz NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."settlement_entry" (
      "file_id" text NOT NULL REFERENCES ${s}."settlement_file" ("file_id") ON DELETE CASCADE,
      "row_number" integer NOT NULL,
      "platform" text NOT NULL,
      "channel" text NOT NULL,
      "channel_order_id" text NOT NULL,
      "kind" text NOT NULL,
      "amount" bigint NOT NULL,
      "occurred_at" text NOT NULL,
      "item" text NOT NULL,
      PRIMARY KEY ("file_id", "row_number")
    )`,
    `CREATE INDEX IF NOT EXISTS "settlement_entry_order" ON ${s}."settlement_entry" ("channel", "channel_order_id")`,
  ];
}

/**
 * Changes of the fact schema after its baseline, in order: migrations 2, 3, ... of the live schema,
 * and run after the baseline for a rebuild schema.
 */
export function analyticsSchemaChanges(schema: string): { name: string; statements: string[] }[] {
  const s = quoteSchema(schema);
  return [
    {
      // Levels come from two topics since ADR 0023; the highest ledger revision wins, not the last arrival.
      name: 'stock_level.version: the ledger stream revision of the level',
      statements: [`ALTER TABLE ${s}."stock_level" ADD COLUMN IF NOT EXISTS "version" bigint NOT NULL DEFAULT -1`],
    },
  ];
}

/** Versioned migrations of the live fact schema (libs/platform runMigrations, scope `analytics`). */
export function analyticsMigrations(): Migration[] {
  return [
    { version: 1, name: 'baseline: order_fact, order_line, refund, allocation, stock_level, shipment, applied_event, checkpoint', statements: analyticsSchemaDdl(ANALYTICS_SCHEMA) },
    ...analyticsSchemaChanges(ANALYTICS_SCHEMA).map((c, i) => ({ version: i + 2, ...c })),
  ];
}

/** Versioned migrations of the imported-data schema (scope `analytics_import`). */
export function importMigrations(): Migration[] {
  return [{ version: 1, name: 'baseline: settlement_file, settlement_entry', statements: importSchemaDdl() }];
}

/** Only one process creates a rebuild schema's tables at a time. */
export const ANALYTICS_SCHEMA_DDL_LOCK = 0x0a7a_0003;

/**
 * Brings a schema up to date. The live schemas (`analytics`, `analytics_import`) through their
 * versioned, checksummed migrations (forward-only: a change is a new migration appended to the
 * list, under runMigrations' advisory lock, so replicas booting together wait for each other).
 * A rebuild schema (any other name) is dropped and recreated per rebuild: every statement of the
 * fact schema's definition in one transaction under ANALYTICS_SCHEMA_DDL_LOCK, no record kept.
 */
export async function ensureAnalyticsSchema(pool: Pool, schema: string): Promise<void> {
  const transactions = pgTransactions(pool);
  if (schema === ANALYTICS_SCHEMA) {
    await runMigrations(transactions, 'analytics', analyticsMigrations());
    return;
  }
  if (schema === IMPORT_SCHEMA) {
    await runMigrations(transactions, 'analytics_import', importMigrations());
    return;
  }
  await transactions.run(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ANALYTICS_SCHEMA_DDL_LOCK]);
    for (const ddl of [...analyticsSchemaDdl(schema), ...analyticsSchemaChanges(schema).flatMap((c) => c.statements)]) await tx.query(ddl);
  });
}
