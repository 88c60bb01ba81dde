import { migrate as migrateEventStore } from '@flowline/eventstore';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS, runMigrations, type Migration, type MigrationResult } from '@flowline/platform';
import type { Pool } from 'pg';

/**
 * The approval service's own tables (besides the event store, the relay checkpoint, the inbox and
 * graphile-worker's schema). Both read tables are written in the same transaction as the events
 * they reflect, so an inbox never shows a step that was already decided.
 */
// FROZEN: released as migration approval v1 (checksummed; an edit makes every migrated database
// refuse to start). A new column or table goes into approvalMigrations() as v2, v3 ...
const DDL = `
CREATE TABLE IF NOT EXISTS approvals (
  approval_id   text PRIMARY KEY,
  order_id      text NOT NULL,
  kind          text NOT NULL,
  chain         text NOT NULL,
  status        text NOT NULL,
  revision      integer NOT NULL,
  state         jsonb NOT NULL,
  requested_at  timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_by_order ON approvals (order_id, requested_at);

-- One row per approval whose current step waits for a decision: who may decide it now
-- (principals 'user:<id>' / 'role:<role>' of the undecided slots, delegates included, plus the
-- escalation target), since when and until when.
CREATE TABLE IF NOT EXISTS approval_pending_steps (
  approval_id   text PRIMARY KEY,
  order_id      text NOT NULL,
  chain         text NOT NULL,
  kind          text NOT NULL,
  step          text NOT NULL,
  attempt       integer NOT NULL,
  principals    text[] NOT NULL,
  started_at    timestamptz NOT NULL,
  remind_at     timestamptz NOT NULL,
  due_at        timestamptz NOT NULL,
  escalated     boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS approval_pending_steps_principals ON approval_pending_steps USING gin (principals);

-- The order as approval last saw it on orders.events.v1 / fulfillment.events.v1: what a change
-- request is diffed against, and whether a shipment is packed (freeze).
CREATE TABLE IF NOT EXISTS order_snapshots (
  order_id          text PRIMARY KEY,
  channel           text NOT NULL,
  stage             text NOT NULL,
  lines             jsonb NOT NULL,
  totals            jsonb NOT NULL,
  shipping_address  jsonb NOT NULL,
  packed_shipments  text[] NOT NULL DEFAULT '{}',
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Units applied changes added, held in their own reservations (chg-<approvalId>), oldest first:
-- where a later change that removes them gives them back from.
ALTER TABLE order_snapshots ADD COLUMN IF NOT EXISTS change_holdings jsonb NOT NULL DEFAULT '[]';

-- Every timer run, by the instance that ran it: proves (and lets an operator see) each timer fired once.
CREATE TABLE IF NOT EXISTS approval_timer_runs (
  job_key       text NOT NULL,
  instance      text NOT NULL,
  outcome       text NOT NULL,
  ran_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS approval_timer_runs_key ON approval_timer_runs (job_key);

-- The driven clock's offset (APPROVAL_DRIVEN_CLOCK=on, tests and demos only): now = real time + offset_ms.
CREATE TABLE IF NOT EXISTS approval_clock (
  id            integer PRIMARY KEY CHECK (id = 1),
  offset_ms     bigint NOT NULL DEFAULT 0
);

-- Idempotency-Key of REST and gRPC commands: the reply of the first request, replayed.
CREATE TABLE IF NOT EXISTS approval_idempotency (
  key           text PRIMARY KEY,
  request_hash  text NOT NULL,
  status        integer NOT NULL,
  body          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
`;

/** Scope of approval's own tables in flowline_schema_migrations. */
export const APPROVAL_MIGRATION_SCOPE = 'approval';

/**
 * Approval's own tables as versioned, checksummed migrations (libs/platform runMigrations).
 * v1 is the DDL exactly as boot ran it before (IF NOT EXISTS kept: an existing database is
 * adopted). A new column or table is a new version appended here, never an edit of v1.
 */
export function approvalMigrations(): Migration[] {
  return [
    { version: 1, name: 'baseline: approvals, approval_pending_steps, order_snapshots, approval_timer_runs, approval_clock, approval_idempotency', statements: [DDL] },
    // The order's shop, for shop-limited staff (ADR 0018): NULL on snapshots taken before it; those
    // orders' approvals stay visible to every approver, as all were before.
    { version: 2, name: 'order_snapshots.shop_id', statements: ['ALTER TABLE order_snapshots ADD COLUMN IF NOT EXISTS shop_id text'] },
    // GET /api/approvals/returned: the few approvals returned for changes, without reading every approval.
    { version: 3, name: 'approvals_returned index', statements: [`CREATE INDEX IF NOT EXISTS approvals_returned ON approvals (updated_at, approval_id) WHERE status = 'returned'`] },
  ];
}

/**
 * Approval's tables and libs/messaging's (scopes `approval`, `messaging`), under runMigrations'
 * advisory lock: replicas booting together wait for each other.
 */
export async function migrateApprovalSchema(pool: Pool): Promise<void> {
  const transactions = pgTransactions(pool);
  await runMigrations(transactions, APPROVAL_MIGRATION_SCOPE, approvalMigrations());
  await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
}

/**
 * Every migration scope of approval's database (migrate-only entry `main.js migrate`): the event
 * store, approval, messaging, platform.rule-documents (the versioned chains, ADR 0021). graphile-worker's own schema is migrated by graphile-worker at boot
 * (APPROVAL_TIMERS), not here.
 */
export async function migrateApprovalDatabase(pool: Pool): Promise<{ eventstore: number[]; approval: MigrationResult; messaging: MigrationResult; 'platform.rule-documents': MigrationResult }> {
  const eventstore = await migrateEventStore(pool);
  const transactions = pgTransactions(pool);
  const approval = await runMigrations(transactions, APPROVAL_MIGRATION_SCOPE, approvalMigrations());
  const messaging = await runMigrations(transactions, messagingMigrationScope(), messagingMigrations());
  const ruleDocuments = await runMigrations(transactions, RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS);
  return { eventstore, approval, messaging, 'platform.rule-documents': ruleDocuments };
}
