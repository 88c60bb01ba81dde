import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveProjector } from '../src/application/live-projector';
import { systemClock } from '../src/infra/clock';
import { projectionFields, summaryFromRecord, timelineFromRecord, visitFromRecord } from '../src/infra/row-mapping';
import { table } from '../src/infra/tracking-schema';
import { projectInMemory } from '../src/projections/in-memory.projection';
import { orderIdOf, TRACKED_EVENT_TYPES } from '../src/projections/tracked-event';
import { eventually, testLogger, trackingHarness } from './fixtures/harness';
import { mixedWorkload } from './fixtures/workload';

/*
 * Given events on the real topics, the live consumer (real Kafka consumer group, inbox and
 * PostgreSQL) produces exactly the rows the pure projections produce, for every event type.
 */

let h: Awaited<ReturnType<typeof trackingHarness>>;
let projector: LiveProjector;
const workload = mixedWorkload({ orders: 400, seed: 11, idPrefix: 'p' });

beforeAll(async () => {
  h = await trackingHarness('tracking_projection');
  projector = new LiveProjector(h.dataSource, h.kafka, h.config, systemClock, testLogger);
  await projector.start();
  await h.publish(workload.messages);
  await eventually('the projector to reach the ends of the topics', async () => {
    const lag = await projector.measureLag();
    return lag.every((l) => l.events === 0) ? lag : undefined;
  }, 180_000, 250);
}, 240_000);

afterAll(async () => {
  await projector?.stop();
  await h?.close();
});

const sortBy = <T>(xs: T[], key: (x: T) => string) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

describe('live projection through Kafka and PostgreSQL', () => {
  it('writes the summary, timeline and stage-duration rows the pure projections give for the same events', async () => {
    const expected = projectInMemory(workload.events, h.config.sla);
    const s = await h.pool.query(`SELECT * FROM ${table('tracking', 'order_summary')}`);
    const t = await h.pool.query(`SELECT * FROM ${table('tracking', 'timeline_entry')}`);
    const v = await h.pool.query(`SELECT * FROM ${table('tracking', 'stage_visit')}`);
    expect(s.rowCount).toBe(workload.orders);
    expect(sortBy(s.rows.map((r) => projectionFields(summaryFromRecord(r))), (r) => r.orderId)).toEqual(sortBy([...expected.summaries.values()], (r) => r.orderId));
    expect(sortBy(t.rows.map(timelineFromRecord), (r) => r.eventId)).toEqual(sortBy([...expected.timeline.values()], (r) => r.eventId));
    expect(sortBy(v.rows.map(visitFromRecord), (r) => `${r.orderId}#${String(r.visit).padStart(3, '0')}`)).toEqual(
      sortBy([...expected.visits.values()], (r) => `${r.orderId}#${String(r.visit).padStart(3, '0')}`),
    );
  });

  it('has a timeline line for every order-related event type and none for SKU-level stock events', async () => {
    const r = await h.pool.query<{ type: string; n: number }>(`SELECT "type", count(*)::int AS n FROM ${table('tracking', 'timeline_entry')} GROUP BY 1`);
    const seen = new Map(r.rows.map((x) => [x.type, x.n]));
    const orderTypes = TRACKED_EVENT_TYPES.filter((type) => workload.events.some((e) => e.type === type && orderIdOf(e)));
    const skuTypes = TRACKED_EVENT_TYPES.filter((type) => !orderTypes.includes(type));
    expect(skuTypes.sort()).toEqual(['AvailableToPromiseChanged', 'LowStockAlerted', 'StockAdjusted', 'StockLevelChanged', 'StockReceived']);
    for (const type of orderTypes) expect(seen.get(type), type).toBe(workload.events.filter((e) => e.type === type).length);
    for (const type of skuTypes) expect(seen.has(type)).toBe(false);
    expect(seen.has('OrderTeleported')).toBe(false);
  });

  it('applied each event once: redelivered duplicates were skipped by the inbox', async () => {
    const distinct = new Set(workload.messages.map((m) => m.event.eventId)).size;
    expect(workload.messages.length).toBeGreaterThan(distinct);
    const inbox = await h.pool.query(`SELECT count(*)::int AS n FROM ${table('tracking', 'inbox')}`);
    expect(inbox.rows[0].n).toBe(distinct);
    const total = await h.pool.query(`SELECT sum("event_count")::int AS n FROM ${table('tracking', 'order_summary')}`);
    expect(total.rows[0].n).toBe(workload.events.filter((e) => e.type.startsWith('Order')).length);
  });
});
