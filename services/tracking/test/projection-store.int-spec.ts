import 'reflect-metadata';
import { createTestDatabase } from '@flowline/testing';
import { pgTransactions } from '@flowline/messaging';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG } from '../src/domain/sla';
import { ProjectionStore, type PositionedEvent } from '../src/infra/projection-store';
import { summaryFromRecord, projectionFields, timelineFromRecord, visitFromRecord } from '../src/infra/row-mapping';
import { ensureTrackingSchema, table } from '../src/infra/tracking-schema';
import { TRACKING_ENTITIES } from '../src/projections/entities';
import { projectInMemory } from '../src/projections/in-memory.projection';
import type { TrackedEvent } from '../src/projections/tracked-event';
import { EventBuilder, happyPath } from './fixtures/events';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const schema = 'tracking';

beforeAll(async () => {
  db = await createTestDatabase('tracking_store');
  pool = new Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined); // the drop at the end terminates idle clients
  await ensureTrackingSchema(pgTransactions(pool), schema);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function positioned(events: TrackedEvent[]): PositionedEvent[] {
  return events.map((e, i) => ({ event: e, eventId: e.eventId, occurredAt: e.occurredAt, position: { topic: 'orders.events.v1', partition: 0, offset: String(i) } }));
}

async function rows() {
  const s = await pool.query(`SELECT * FROM ${table(schema, 'order_summary')} ORDER BY order_id`);
  const t = await pool.query(`SELECT * FROM ${table(schema, 'timeline_entry')} ORDER BY event_id`);
  const v = await pool.query(`SELECT * FROM ${table(schema, 'stage_visit')} ORDER BY order_id, visit`);
  return {
    summaries: s.rows.map((r) => projectionFields(summaryFromRecord(r))),
    timeline: t.rows.map(timelineFromRecord),
    visits: v.rows.map(visitFromRecord),
  };
}

describe('tracking schema and store (real PostgreSQL)', () => {
  it('the TypeORM entities match the tables the DDL creates (nothing to synchronise)', async () => {
    const ds = new DataSource({ type: 'postgres', url: db.url, entities: TRACKING_ENTITIES });
    await ds.initialize();
    try {
      const log = await ds.driver.createSchemaBuilder().log();
      expect(log.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('writes the same rows as the in-memory projection, one event per transaction or all in one', async () => {
    const b = new EventBuilder('2026-03-02T01:00:00.000Z');
    const events = [...happyPath(b, 'o-1'), ...happyPath(b, 'o-2', 'jd'), b.event('OrderDelivered', { orderId: 'o-1', deliveredAt: b.now() })];
    const tx = pgTransactions(pool);
    const one = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
    for (const item of positioned(events.slice(0, 12))) await tx.run((t) => one.apply(t, [item], '2026-03-02T02:00:00.000Z'));
    await tx.run((t) => one.apply(t, positioned(events).slice(12), '2026-03-02T02:00:00.000Z'));

    const expected = projectInMemory(events, DEFAULT_SLA_CONFIG);
    const actual = await rows();
    expect(actual.summaries).toEqual([...expected.summaries.values()].sort((a, b) => (a.orderId < b.orderId ? -1 : 1)));
    expect(actual.timeline).toEqual([...expected.timeline.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : 1)));
    expect(actual.visits).toEqual([...expected.visits.values()].sort((a, b) => (a.orderId === b.orderId ? a.visit - b.visit : a.orderId < b.orderId ? -1 : 1)));
    const cp = await pool.query(`SELECT "offset" FROM ${table(schema, 'checkpoint')}`);
    expect(cp.rows).toEqual([{ offset: String(events.length - 1) }]);
  });
});

describe('stage visits are written by key', () => {
  it('a close sets the times of the stored visit, and records the whole visit when its open was never written (as the in-memory projection does)', async () => {
    const b = new EventBuilder('2026-03-03T01:00:00.000Z');
    const [placed, paid, reserved, orderReserved] = happyPath(b, 'o-visits');
    const tx = pgTransactions(pool);
    const store = new ProjectionStore(schema, DEFAULT_SLA_CONFIG);
    await tx.run((t) => store.apply(t, positioned([placed]), '2026-03-03T02:00:00.000Z'));
    // The placed visit is stored open; the paid event closes it in a later batch.
    await tx.run((t) => store.apply(t, positioned([paid]), '2026-03-03T02:00:00.000Z'));
    // A visit whose open row is missing (a table restored without it): the close writes it whole.
    await pool.query(`DELETE FROM ${table(schema, 'stage_visit')} WHERE order_id = 'o-visits' AND visit = 2`);
    await tx.run((t) => store.apply(t, positioned([reserved, orderReserved]), '2026-03-03T02:00:00.000Z'));

    const expected = [...projectInMemory([placed, paid, reserved, orderReserved], DEFAULT_SLA_CONFIG).visits.values()];
    const stored = (await pool.query(`SELECT * FROM ${table(schema, 'stage_visit')} WHERE order_id = 'o-visits' ORDER BY visit`)).rows.map(visitFromRecord);
    expect(stored).toEqual(expected.sort((x, y) => x.visit - y.visit));
    expect(stored.map((v) => [v.visit, v.stage, v.leftAt !== null])).toEqual([
      [1, 'placed', true],
      [2, 'paid', true],
      [3, 'stock_reserved', false],
    ]);

    // An open never overwrites a stored visit: with the summary gone, the order placed again opens
    // visit 1, which is stored closed and stays so.
    await pool.query(`DELETE FROM ${table(schema, 'order_summary')} WHERE order_id = 'o-visits'`);
    await tx.run((t) => store.apply(t, positioned([placed]), '2026-03-03T02:00:00.000Z'));
    const again = (await pool.query(`SELECT * FROM ${table(schema, 'stage_visit')} WHERE order_id = 'o-visits' ORDER BY visit`)).rows.map(visitFromRecord);
    expect(again).toEqual(stored);
  });

  it('the in-memory projection records a close whose open it never saw, as the store does', () => {
    const b = new EventBuilder('2026-03-03T03:00:00.000Z');
    const [placed, paid] = happyPath(b, 'o-mem');
    const state = projectInMemory([placed], DEFAULT_SLA_CONFIG);
    state.visits.clear();
    const after = projectInMemory([paid], DEFAULT_SLA_CONFIG, state);
    expect([...after.visits.values()].map((v) => [v.visit, v.stage, v.enteredAt === placed.occurredAt, v.leftAt !== null])).toEqual([
      [1, 'placed', true, true],
      [2, 'paid', false, false],
    ]);
  });
});
