import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveProjector } from '../src/application/live-projector';
import { dropRebuildSchema, rebuildProjections, type RebuildReport } from '../src/application/rebuild';
import { TrackingQueries } from '../src/application/tracking-queries';
import { systemClock } from '../src/infra/clock';
import { table } from '../src/infra/tracking-schema';
import { eventually, testLogger, trackingHarness } from './fixtures/harness';
import { mixedWorkload } from './fixtures/workload';

/*
 * A mixed workload of 4,000 orders (about 43,000 messages on the four topics, duplicates and an
 * unknown type included; the bench's rebuild workload measures 10,000) is projected live; a rebuild replays the topics into a fresh schema and
 * its checksum equals the live one; a second rebuild swaps in while events keep arriving and reads
 * keep being served, and the result still equals a replay.
 */

const ORDERS = 4_000;
let h: Awaited<ReturnType<typeof trackingHarness>>;
let projector: LiveProjector;
let queries: TrackingQueries;
const workload = mixedWorkload({ orders: ORDERS, seed: 2026, idPrefix: 'r' });

async function caughtUp(): Promise<void> {
  await eventually('the live projector to catch up', async () => ((await projector.measureLag()).every((l) => l.events === 0) ? true : undefined), 240_000, 250);
}

function rebuild(swap: boolean, extra: { keepOld?: boolean } = {}): Promise<RebuildReport> {
  return rebuildProjections({
    pool: h.pool,
    kafka: h.kafka,
    topicPrefix: h.prefix,
    consumerGroup: h.config.consumerGroup,
    sla: h.config.sla,
    clock: systemClock,
    swap,
    logger: testLogger,
    ...extra,
  });
}

beforeAll(async () => {
  h = await trackingHarness('tracking_rebuild');
  projector = new LiveProjector(h.dataSource, h.kafka, h.config, systemClock, testLogger);
  queries = new TrackingQueries(h.dataSource, h.config.sla, systemClock);
  await projector.start();
  await h.publish(workload.messages);
  await caughtUp();
}, 300_000);

afterAll(async () => {
  await projector?.stop();
  await h?.close();
});

describe(`rebuild after a mixed workload of ${ORDERS} orders`, () => {
  it('replays the topics into a fresh schema whose checksum equals the live one', async () => {
    const live = await queries.checksum();
    expect(live.tables.orderSummary.rows).toBe(ORDERS);
    const report = await rebuild(false);
    try {
      expect(report.swapped).toBe(false);
      expect(report.truncated).toBe(false);
      expect(report.orders).toBe(ORDERS);
      expect(report.applied).toBe(new Set(workload.messages.map((m) => m.event.eventId)).size);
      expect(report.duplicates).toBe(workload.messages.length - report.applied);
      const rebuilt = await queries.checksum(report.schema);
      expect(rebuilt.tables).toEqual(live.tables);
      expect(rebuilt.checksum).toBe(live.checksum);
      console.log(`rebuild: ${report.consumed} messages in ${report.replayMs} ms = ${report.eventsPerSecond} events/s`);
    } finally {
      await dropRebuildSchema(h.pool, report.schema);
    }
  }, 300_000);

  it('swaps the rebuilt schema in while events keep arriving and reads keep working, and applies nothing twice', async () => {
    const LATE = 500;
    const more = mixedWorkload({ orders: LATE, seed: 99, idPrefix: 'late' });
    let readErrors = 0;
    let reads = 0;
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          await queries.listOrders({ limit: 20 });
          await queries.getOrder('r-000001');
          reads++;
        } catch (e) {
          readErrors++;
          console.error('read failed during rebuild', e);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Events keep arriving during the whole rebuild, the swap included: a slice every 20 ms until
    // the rebuild is done, then the rest.
    let rebuilding = true;
    let publishedDuringRebuild = 0;
    const publishing = (async () => {
      let i = 0;
      while (rebuilding && i < more.messages.length) {
        await h.publish(more.messages.slice(i, i + 40));
        i += 40;
        publishedDuringRebuild = Math.min(i, more.messages.length);
        await new Promise((r) => setTimeout(r, 20));
      }
      await h.publish(more.messages.slice(i));
    })();
    const report = await rebuild(true).finally(() => (rebuilding = false));
    await publishing;
    expect(publishedDuringRebuild).toBeGreaterThan(0);
    await caughtUp();
    reading = false;
    await reader;

    expect(report.swapped).toBe(true);
    expect(readErrors).toBe(0);
    expect(reads).toBeGreaterThan(0);
    const old = await h.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tracking\\_%'`);
    expect(old.rows).toEqual([]);

    const expectedOrderEvents = [...workload.events, ...more.events].filter((e) => e.type.startsWith('Order')).length;
    const counts = await h.pool.query(`SELECT count(*)::int AS orders, sum("event_count")::int AS events FROM ${table('tracking', 'order_summary')}`);
    expect(counts.rows[0]).toEqual({ orders: ORDERS + LATE, events: expectedOrderEvents });

    const live = await queries.checksum();
    const replay = await rebuild(false);
    try {
      expect((await queries.checksum(replay.schema)).checksum).toBe(live.checksum);
    } finally {
      await dropRebuildSchema(h.pool, replay.schema);
    }
    console.log(`swap held live writes for ${report.swapPauseMs} ms; ${publishedDuringRebuild} messages published and ${reads} reads served during the rebuild, none failed`);
  }, 300_000);
});
