import type { Pool } from 'pg';

/**
 * The approval service's own tables (besides the event store, the relay checkpoint, the inbox and
 * graphile-worker's schema). Both read tables are written in the same transaction as the events
 * they reflect, so an inbox never shows a step that was already decided.
 */
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

export async function migrateApprovalSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('approval-schema'))`);
    try {
      await client.query(DDL);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('approval-schema'))`);
    }
  } finally {
    client.release();
  }
}
