import { quoteTable, type SqlQueryable } from '@flowline/messaging';
import { runMigrations, type Migration } from '@flowline/platform';

/** The live schema in tracking's database. Rebuilds fill `tracking_rb_<id>` and swap it in under this name. */
export const TRACKING_SCHEMA = 'tracking';

/** Validates and quotes a schema name. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  return `"${schema}"`;
}

/** A table of a tracking schema, quoted: `"tracking"."order_summary"`. */
export function table(schema: string, name: 'order_summary' | 'timeline_entry' | 'stage_visit' | 'checkpoint' | 'inbox' | 'meta'): string {
  return quoteTable(`${schema}.${name}`);
}

/**
 * The tables of one tracking schema, as versioned migrations (libs/platform runMigrations):
 * forward-only and checksummed, so a released migration is never edited; a change to the tables is
 * a new migration appended here (expand only: add columns/tables/indexes, older builds keep working).
 * The live schema is brought up to date by `runMigrations` (recorded in flowline_schema_migrations,
 * scope `tracking`); a rebuild schema runs the same statements in order, so a swap exchanges
 * identical shapes. The TypeORM entities mirror the result (the integration test checks that
 * TypeORM sees nothing to change).
 */
export function trackingMigrations(schema: string): Migration[] {
  return [
    { version: 1, name: 'baseline: order_summary, timeline_entry, stage_visit, checkpoint, meta, inbox', statements: baselineV1(schema) },
    // The audit query by actor (GET /api/audit?actor=, issue #16).
    { version: 2, name: 'timeline_entry by actor', statements: [`CREATE INDEX IF NOT EXISTS "ix_timeline_entry_actor" ON ${quoteSchema(schema)}."timeline_entry" ("actor_id", "occurred_at")`] },
    // Search by phone tail (尾号) and SKU (issue #17).
    { version: 3, name: 'order_summary phone_tail and skus', statements: searchColumnsV3(schema) },
    // Fewer index writes per projected batch (issue #10).
    { version: 4, name: 'drop unused ix_order_summary_due; stage_visit left_at index on closed visits only', statements: leanerIndexesV4(schema) },
    // The shortage list: SKUs with orders waiting for stock (GET /api/tracking/shortages).
    { version: 5, name: 'order_summary shortage', statements: shortageV5(schema) },
  ];
}

/** Every statement of every migration, in order: the whole shape of a fresh tracking schema. */
export function trackingSchemaDdl(schema: string): string[] {
  return trackingMigrations(schema).flatMap((m) => [...m.statements]);
}

/**
 * Version 1 (frozen): the tables as they were when migrations were introduced. `IF NOT EXISTS`
 * stays so that databases created before then are adopted as version 1 without change.
 */
function baselineV1(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}."order_summary" (
      "order_id" text NOT NULL PRIMARY KEY,
      "channel" text NOT NULL,
      "channel_order_id" text NOT NULL,
      "shop_id" text NOT NULL,
      "customer_masked" text,
      "customer_phone_masked" text,
      "province" text,
      "city" text,
      "line_count" integer NOT NULL,
      "item_count" integer NOT NULL,
      "grand_total" bigint NOT NULL,
      "currency" text NOT NULL,
      "paid_amount" bigint NOT NULL,
      "refunded_amount" bigint NOT NULL,
      "stage" text NOT NULL,
      "stage_entered_at" timestamptz NOT NULL,
      "stage_visit" integer NOT NULL,
      "on_hold" boolean NOT NULL,
      "hold_reason" text,
      "exception" boolean NOT NULL,
      "exception_code" text,
      "exception_reason" text,
      "ever_exception" boolean NOT NULL,
      "manual_touch" boolean NOT NULL,
      "ingest_mode" text NOT NULL,
      "refund_requested" boolean NOT NULL,
      "approval_chain" text,
      "last_rule_id" text,
      "last_rule_set_version" text,
      "last_rule_decision" text,
      "priority" text NOT NULL,
      "carrier" text,
      "tracking_number" text,
      "placed_at" timestamptz NOT NULL,
      "paid_at" timestamptz,
      "ready_to_ship_at" timestamptz,
      "shipped_at" timestamptz,
      "delivered_at" timestamptz,
      "closed_at" timestamptz,
      "sla_segment" text,
      "sla_started_at" timestamptz,
      "sla_yellow_at" timestamptz,
      "sla_due_at" timestamptz,
      "stuck_at" timestamptz,
      "eta_ship_by" timestamptz,
      "last_event_at" timestamptz NOT NULL,
      "last_stream_position" bigint NOT NULL,
      "event_count" integer NOT NULL,
      "sla_colour" text NOT NULL DEFAULT 'none',
      "stuck" boolean NOT NULL DEFAULT false,
      "status_at" timestamptz,
      "updated_at" timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_placed" ON ${s}."order_summary" ("placed_at", "order_id")`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_stage" ON ${s}."order_summary" ("stage", "placed_at")`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_colour" ON ${s}."order_summary" ("sla_colour", "placed_at")`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_channel" ON ${s}."order_summary" ("channel", "placed_at")`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_due" ON ${s}."order_summary" ("sla_yellow_at") WHERE "sla_yellow_at" IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_stuck_at" ON ${s}."order_summary" ("stuck_at") WHERE "stuck_at" IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${s}."timeline_entry" (
      "event_id" text NOT NULL PRIMARY KEY,
      "order_id" text NOT NULL,
      "occurred_at" timestamptz NOT NULL,
      "type" text NOT NULL,
      "context" text NOT NULL,
      "stream_id" text NOT NULL,
      "stream_position" bigint NOT NULL,
      "actor_kind" text,
      "actor_id" text,
      "actor_role" text,
      "actor_name" text,
      "who_zh" text NOT NULL,
      "who_en" text NOT NULL,
      "what_zh" text NOT NULL,
      "what_en" text NOT NULL,
      "why_zh" text,
      "why_en" text,
      "rule_id" text,
      "rule_set_version" text,
      "rule_set_hash" text,
      "stage_after" text,
      "envelope" jsonb NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "ix_timeline_entry_order" ON ${s}."timeline_entry" ("order_id", "occurred_at")`,
    `CREATE TABLE IF NOT EXISTS ${s}."stage_visit" (
      "order_id" text NOT NULL,
      "visit" integer NOT NULL,
      "stage" text NOT NULL,
      "channel" text NOT NULL,
      "entered_at" timestamptz NOT NULL,
      "left_at" timestamptz,
      "duration_ms" bigint,
      PRIMARY KEY ("order_id", "visit")
    )`,
    `CREATE INDEX IF NOT EXISTS "ix_stage_visit_left" ON ${s}."stage_visit" ("left_at", "stage")`,
    `CREATE TABLE IF NOT EXISTS ${s}."checkpoint" (
      "topic" text NOT NULL,
      "partition" integer NOT NULL,
      "offset" bigint NOT NULL,
      "event_id" text NOT NULL,
      "occurred_at" timestamptz NOT NULL,
      "applied_at" timestamptz NOT NULL,
      PRIMARY KEY ("topic", "partition")
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}."meta" (
      "key" text NOT NULL PRIMARY KEY,
      "value" jsonb NOT NULL
    )`,
    // libs/messaging inboxDdl as of version 1, copied so that a change there cannot alter a released migration.
    `CREATE TABLE IF NOT EXISTS ${quoteTable(`${schema}.inbox`)} (
    consumer_group text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
  )`,
  ];
}

/**
 * Version 3: `phone_tail` (last four digits of the masked phone, never the full number) and `skus`
 * (the lines' SKUs, distinct, sorted) on order_summary, each with an index that serves the filter
 * together with the newest-first cursor order: (phone_tail, placed_at, order_id) read backwards, and
 * GIN on skus for `skus @> ARRAY[sku]`. Existing rows are filled from what the schema already holds
 * (the masked phone; the lines of the newest OrderPlaced / OrderChanged envelope in timeline_entry),
 * with the same rules as the projection (phoneTailOf, skusOf), so a rebuild reproduces them.
 */
function searchColumnsV3(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `ALTER TABLE ${s}."order_summary" ADD COLUMN IF NOT EXISTS "phone_tail" text`,
    `ALTER TABLE ${s}."order_summary" ADD COLUMN IF NOT EXISTS "skus" text[] NOT NULL DEFAULT '{}'`,
    `UPDATE ${s}."order_summary" SET "phone_tail" = substring(btrim("customer_phone_masked") from '(\\d{4})$') WHERE "customer_phone_masked" IS NOT NULL`,
    `UPDATE ${s}."order_summary" o SET "skus" = x."skus"
     FROM (SELECT DISTINCT ON (t."order_id") t."order_id",
                  ARRAY(SELECT DISTINCT l->>'sku' COLLATE "C" FROM jsonb_array_elements(t."envelope"->'data'->'lines') l WHERE coalesce(l->>'sku', '') <> '' ORDER BY 1) AS "skus"
           FROM ${s}."timeline_entry" t
           WHERE t."type" IN ('OrderPlaced', 'OrderChanged') AND jsonb_typeof(t."envelope"->'data'->'lines') = 'array'
           ORDER BY t."order_id", (t."type" = 'OrderChanged') DESC, t."stream_position" DESC) x
     WHERE x."order_id" = o."order_id"`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_phone_tail" ON ${s}."order_summary" ("phone_tail", "placed_at", "order_id") WHERE "phone_tail" IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_skus" ON ${s}."order_summary" USING gin ("skus")`,
  ];
}

/**
 * Version 4: index writes the projection paid for and no query uses (issue #10).
 * - `ix_order_summary_due` (sla_yellow_at): no query filters or sorts on sla_yellow_at (the clock
 *   job reads sla_due_at / stuck_at / sla_colour / stuck, the alert scan sla_colour / stuck), yet
 *   every summary insert and every non-HOT update wrote an entry.
 * - `ix_stage_visit_left` indexed every visit from the moment it opened (left_at NULL). Its only
 *   reader, the stage-duration KPI, asks for `left_at` in a range, which implies NOT NULL, so the
 *   partial index serves it and an opening visit writes no entry to it.
 * Older builds keep working: no statement names an index, and their entities are never synchronised.
 */
function leanerIndexesV4(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `DROP INDEX IF EXISTS ${s}."ix_order_summary_due"`,
    `CREATE INDEX IF NOT EXISTS "ix_stage_visit_left_closed" ON ${s}."stage_visit" ("left_at", "stage") WHERE "left_at" IS NOT NULL`,
    `DROP INDEX IF EXISTS ${s}."ix_stage_visit_left"`,
  ];
}

/**
 * Version 5: `shortage` (jsonb, the short lines `[{sku, requested, available}]` while the order
 * waits for stock as an open exception) and a partial index on the rows that have one, so the
 * shortage list reads only them. Existing rows are filled from the timeline with the projection's
 * rules, so a rebuild reproduces them: the lines of the order's latest OrderStockShortage (well-formed
 * ones only) unless a later OrderExceptionResolved or OrderStockReserved cleared them; an OrderChanged
 * after it drops the SKUs that change left out and sets each kept SKU's units to the latest change's;
 * only for an open exception in placed or paid.
 */
function shortageV5(schema: string): string[] {
  const s = quoteSchema(schema);
  // Units of SKU `sku` (jsonb text) in the lines of change `c`, as numeric (NULL when none).
  const unitsIn = (c: string, sku: string) =>
    `(SELECT sum(CASE WHEN jsonb_typeof(l->'quantity') = 'number' THEN (l->>'quantity')::numeric ELSE 0 END) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${c}."envelope"->'data'->'lines') = 'array' THEN ${c}."envelope"->'data'->'lines' ELSE '[]'::jsonb END) l WHERE l->>'sku' = ${sku})`;
  return [
    `ALTER TABLE ${s}."order_summary" ADD COLUMN IF NOT EXISTS "shortage" jsonb`,
    `UPDATE ${s}."order_summary" o SET "shortage" = x."shortage"
     FROM (SELECT sh."order_id",
                  (SELECT jsonb_agg(jsonb_build_object('sku', m->'sku', 'available', m->'available',
                                    'requested', coalesce((SELECT to_jsonb(${unitsIn('c', "m->>'sku'")})
                                                             FROM ${s}."timeline_entry" c
                                                            WHERE c."order_id" = sh."order_id" AND c."type" = 'OrderChanged' AND c."stream_position" > sh."stream_position"
                                                            ORDER BY c."stream_position" DESC LIMIT 1), m->'requested')) ORDER BY n)
                     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(sh."envelope"->'data'->'missing') = 'array' THEN sh."envelope"->'data'->'missing' ELSE '[]'::jsonb END) WITH ORDINALITY AS e(m, n)
                    WHERE jsonb_typeof(m->'sku') = 'string' AND m->>'sku' <> '' AND jsonb_typeof(m->'requested') = 'number' AND jsonb_typeof(m->'available') = 'number'
                      AND NOT EXISTS (SELECT 1 FROM ${s}."timeline_entry" c
                                       WHERE c."order_id" = sh."order_id" AND c."type" = 'OrderChanged' AND c."stream_position" > sh."stream_position"
                                         AND coalesce(${unitsIn('c', "m->>'sku'")}, 0) <= 0)) AS "shortage"
           FROM (SELECT DISTINCT ON (t."order_id") t."order_id", t."stream_position", t."envelope"
                   FROM ${s}."timeline_entry" t
                  WHERE t."type" = 'OrderStockShortage'
                  ORDER BY t."order_id", t."stream_position" DESC) sh
          WHERE NOT EXISTS (SELECT 1 FROM ${s}."timeline_entry" r
                             WHERE r."order_id" = sh."order_id" AND r."type" IN ('OrderExceptionResolved', 'OrderStockReserved') AND r."stream_position" > sh."stream_position")) x
     WHERE x."order_id" = o."order_id" AND o."exception" AND o."stage" IN ('placed', 'paid')`,
    `CREATE INDEX IF NOT EXISTS "ix_order_summary_shortage" ON ${s}."order_summary" ("placed_at") WHERE "shortage" IS NOT NULL`,
  ];
}

/**
 * The live schema: its migrations, applied once each and checksum-verified (runMigrations, under its
 * advisory lock). A rebuild schema (any other name): every migration's statements in order, under
 * SCHEMA_DDL_LOCK, in one transaction; it is dropped and recreated per rebuild, so it keeps no record.
 */
export async function ensureTrackingSchema(transactions: { run<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> }, schema: string): Promise<void> {
  if (schema === TRACKING_SCHEMA) {
    await runMigrations(transactions, 'tracking', trackingMigrations(TRACKING_SCHEMA));
    return;
  }
  await transactions.run(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_DDL_LOCK]);
    for (const sql of trackingSchemaDdl(schema)) await tx.query(sql);
  });
}

/** Advisory lock keys (arbitrary constants, unique within the tracking database). */
export const SCHEMA_DDL_LOCK = 7_341_001;
/** Every projection transaction holds this lock shared; a swap takes it exclusively. */
export const PROJECTION_SWAP_LOCK = 7_341_002;
/** Only one clock job in the cluster recomputes SLA colours at a time. */
export const CLOCK_JOB_LOCK = 7_341_003;
/** Only one rebuild at a time. */
export const REBUILD_LOCK = 7_341_004;
