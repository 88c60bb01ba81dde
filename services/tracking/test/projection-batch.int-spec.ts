import 'reflect-metadata';
import { createTestDatabase } from '@flowline/testing';
import { pgTransactions, queryPrepared } from '@flowline/messaging';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG } from '../src/domain/sla';
import { changedOrderIds, changeNotifications, ORDER_CHANGED_CHANNEL, ProjectionStore, type PositionedEvent } from '../src/infra/projection-store';
import { summaryFromRecord, projectionFields } from '../src/infra/row-mapping';
import { withSwapLock } from '../src/infra/swap-lock';
import { ensureTrackingSchema, quoteSchema, table } from '../src/infra/tracking-schema';
import { projectInMemory } from '../src/projections/in-memory.projection';
import type { TrackedEvent } from '../src/projections/tracked-event';
import { EventBuilder, happyPath } from './fixtures/events';

/**
 * Issue #10 item 4: a Kafka batch is projected in one transaction through prepared statements
 * with one change notification per batch (not one NOTIFY per order), and the prepared plans
 * follow a rebuild's schema swap. Real PostgreSQL.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const schema = 'tracking';

beforeAll(async () => {
  db = await createTestDatabase('tracking_batch');
  // One connection: every transaction reuses the same prepared statements.
  pool = new Pool({ connectionString: db.url, max: 1 });
  pool.on('error', () => undefined); // the drop at the end terminates idle clients
  await ensureTrackingSchema(pgTransactions(pool), schema);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

let offset = 0;
function positioned(events: TrackedEvent[]): PositionedEvent[] {
  return events.map((e) => ({ event: e, eventId: e.eventId, occurredAt: e.occurredAt, position: { topic: 'orders.events.v1', partition: 0, offset: String(offset++) } }));
}

describe('change notification payloads', () => {
  it('packs order ids into as few JSON lists as fit a NOTIFY, and reads them back', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `order-${String(i).padStart(26, '0')}`);
    const payloads = changeNotifications(ids);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    expect(payloads.flatMap(changedOrderIds)).toEqual(ids);
    expect(changedOrderIds('o-1')).toEqual(['o-1']); // a single id, as older writers send
    expect(changeNotifications([])).toEqual([]);
  });
});

describe('batched projection (real PostgreSQL)', () => {
  it('announces a batch of several orders in one notification, delivered at commit', async () => {
    const listener = new Client({ connectionString: db.url });
    const got: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === ORDER_CHANGED_CHANNEL && n.payload) got.push(n.payload);
    });
    await listener.connect();
    try {
      await listener.query(`LISTEN ${ORDER_CHANGED_CHANNEL}`);
      const b = new EventBuilder('2026-03-02T01:00:00.000Z');
      const events = ['n-1', 'n-2', 'n-3'].flatMap((id) => happyPath(b, id));
      const store = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
      await pgTransactions(pool).run((tx) => store.apply(tx, positioned(events), '2026-03-02T02:00:00.000Z'));
      const until = Date.now() + 30_000;
      while (got.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await listener.query('SELECT 1'); // anything else queued arrives before this answer
      expect(got).toHaveLength(1);
      expect(changedOrderIds(got[0]).sort()).toEqual(['n-1', 'n-2', 'n-3']);
    } finally {
      await listener.end();
    }
  });

  it('runs its statements prepared, and after a schema swap they write to the new tables', async () => {
    const store = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
    const tx = pgTransactions(pool);
    const b = new EventBuilder('2026-03-03T01:00:00.000Z');
    await tx.run((t) => store.apply(t, positioned(happyPath(b, 'p-1')), '2026-03-03T02:00:00.000Z'));
    const prepared = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'flowline_q_%'`);
    expect(prepared.rows[0].n).toBeGreaterThanOrEqual(2);

    // A rebuild's swap (as rebuild.ts does it): a fresh schema takes the live name, the old one is
    // renamed away and kept. PostgreSQL invalidates the cached plans on the rename, so the next use
    // of each prepared statement resolves "tracking".* again, to the new tables.
    const shadow = 'tracking_shadow_t';
    await ensureTrackingSchema(pgTransactions(pool), shadow);
    // On another connection than the projector's (whose statements are prepared), as in a rebuild.
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(`ALTER SCHEMA ${quoteSchema(schema)} RENAME TO ${quoteSchema('tracking_old_t')}`);
      await c.query(`ALTER SCHEMA ${quoteSchema(shadow)} RENAME TO ${quoteSchema(schema)}`);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }

    await tx.run((t) => store.applyOnce(t, 'tracking', positioned(happyPath(b, 'p-2')), '2026-03-03T02:00:00.000Z'));
    const live = await pool.query(`SELECT "order_id" FROM ${table(schema, 'order_summary')} ORDER BY 1`);
    const old = await pool.query(`SELECT "order_id" FROM ${table('tracking_old_t', 'order_summary')} ORDER BY 1`);
    expect(live.rows.map((r) => r.order_id)).toEqual(['p-2']);
    expect(old.rows.map((r) => r.order_id)).not.toContain('p-2');
  });

  it('its prepared loads keep working when a later release adds a column to order_summary while this replica runs (they name their columns)', async () => {
    const store = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
    const tx = pgTransactions(pool);
    const b = new EventBuilder('2026-03-04T01:00:00.000Z');
    const [placed, ...rest] = happyPath(b, 'col-1');
    await tx.run((t) => store.applyOnce(t, 'tracking', positioned([placed]), '2026-03-04T02:00:00.000Z'));
    await tx.run((t) => store.apply(t, positioned(rest.slice(0, 1)), '2026-03-04T02:00:00.000Z'));
    const count = async () => (await pool.query(`SELECT "stage", "event_count" FROM ${table(schema, 'order_summary')} WHERE "order_id" = 'col-1'`)).rows[0];
    const before = await count();
    // On another connection, as a new replica's migration would: a prepared `SELECT *` would now
    // fail with "cached plan must not change result type" on this one.
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`ALTER TABLE ${table(schema, 'order_summary')} ADD COLUMN "added_by_a_later_release" text`);
      await tx.run((t) => store.applyOnce(t, 'tracking', positioned(rest.slice(1, 2)), '2026-03-04T02:00:00.000Z'));
      await tx.run((t) => store.apply(t, positioned(rest.slice(2)), '2026-03-04T02:00:00.000Z'));
      const after = await count();
      expect(after.event_count).toBeGreaterThan(before.event_count);
      expect(after.stage).toBe('shipped'); // the fixture's happy path ends shipped
    } finally {
      await c.query(`ALTER TABLE ${table(schema, 'order_summary')} DROP COLUMN IF EXISTS "added_by_a_later_release"`);
      await c.end();
    }
  });

  it('claims and loads in one statement and writes in a second, planned once under the live projector\'s swap lock, with the in-memory projection\'s rows', async () => {
    const store = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
    const b = new EventBuilder('2026-03-04T01:00:00.000Z', 60_000, 'g-evt');
    const events = [...happyPath(b, 'g-1'), ...happyPath(b, 'g-2', 'jd')];
    const items = positioned(events);
    const tx = withSwapLock(pgTransactions(pool), { genericPlans: true });
    const plans = async () =>
      (
        await pool.query<{ generic: number; custom: number }>(
          `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE statement LIKE '%FOR UPDATE%' AND statement LIKE '%inbox%'`,
        )
      ).rows[0] ?? { generic: 0, custom: 0 };
    const before = await plans(); // the previous test ran it once, outside the swap lock
    let statements = 0;
    let chunks = 0;
    // Three events at a time, each chunk with a redelivery: of its own first event, then of the previous chunk's last.
    for (let i = 0; i < items.length; i += 3) {
      const chunk = [...items.slice(i, i + 3), items[Math.max(0, i - 1)]];
      const r = await tx.run((t) =>
        store.applyOnce({ query: (sql, params) => t.query(sql, params), queryPrepared: (sql, params) => (statements++, queryPrepared(t, sql, params)) }, 'tracking', chunk, '2026-03-04T02:00:00.000Z'),
      );
      expect(r.duplicates).toBe(1);
      chunks++;
    }
    expect(statements).toBe(2 * chunks);

    const expected = projectInMemory(events, DEFAULT_SLA_CONFIG);
    const stored = await pool.query(`SELECT * FROM ${table(schema, 'order_summary')} WHERE "order_id" IN ('g-1', 'g-2') ORDER BY "order_id"`);
    expect(stored.rows.map((r) => projectionFields(summaryFromRecord(r)))).toEqual([expected.summaries.get('g-1'), expected.summaries.get('g-2')]);
    const timeline = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table(schema, 'timeline_entry')} WHERE "order_id" IN ('g-1', 'g-2')`);
    expect(timeline.rows[0].n).toBe(expected.timeline.size);

    // plan_cache_mode = force_generic_plan, local to each transaction: the claim-and-load statement
    // (= ANY of an id array) ran on its generic plan, not on a custom plan made per transaction.
    expect(await plans()).toEqual({ generic: before.generic + chunks, custom: before.custom });
    expect((await pool.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows[0].plan_cache_mode).toBe('auto'); // the session's own mode is untouched
  });
});
