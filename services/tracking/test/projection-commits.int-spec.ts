import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveProjector } from '../src/application/live-projector';
import { systemClock } from '../src/infra/clock';
import { table } from '../src/infra/tracking-schema';
import { trackingConfigFromEnv } from '../src/tracking.config';
import { eventually, testLogger, trackingHarness } from './fixtures/harness';
import { mixedWorkload, type WorkloadMessage } from './fixtures/workload';

/*
 * Issue #10: how many transactions the live projector commits per order when orders arrive at a
 * steady ~25/s, not all at once (real Kafka and PostgreSQL, counted, not timed). The partitions
 * fetched together are group-committed and a fetch waits up to 50 ms for 32 KiB (live-projector.ts),
 * so one commit carries several orders' events; the rows stay those of the pure projections
 * (projection.int-spec proves that for the same projector).
 */

const ORDERS = 60;
let h: Awaited<ReturnType<typeof trackingHarness>>;
let projector: LiveProjector;
const workload = mixedWorkload({ orders: ORDERS, seed: 23, idPrefix: 'c' });

beforeAll(async () => {
  h = await trackingHarness('tracking_commits');
  projector = new LiveProjector(h.dataSource, h.kafka, h.config, systemClock, testLogger);
  await projector.start();
}, 120_000);

afterAll(async () => {
  await projector?.stop();
  await h?.close();
});

describe('live projector transactions per order (real Kafka and PostgreSQL)', () => {
  it('commits at most 2 transactions per order (was 4.98) for a steady flow of about 25 orders/s', async () => {
    const stats = projector.stats;
    if (!stats) throw new Error('projector not started');
    const before = stats.transactions;
    // The workload's messages in ORDERS slices, one slice every 40 ms.
    const slice = Math.ceil(workload.messages.length / ORDERS);
    for (let i = 0; i < workload.messages.length; i += slice) {
      await h.publish(workload.messages.slice(i, i + slice));
      await new Promise((r) => setTimeout(r, 40));
    }
    await eventually('every message applied or skipped as a duplicate', async () => (stats.applied + stats.duplicates + stats.deadLettered >= workload.messages.length - 1 ? true : undefined), 120_000, 100);
    const transactions = stats.transactions - before;
    const rows = await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table('tracking', 'order_summary')}`);
    expect(rows.rows[0].n).toBe(ORDERS);
    console.log(`tracking live projector: ${workload.messages.length} messages of ${ORDERS} orders -> ${transactions} transactions (${(transactions / ORDERS).toFixed(2)} per order)`);
    // How many orders share a commit depends on how the fetches fall (0.78 measured under load, 1.12
    // on a quieter machine); one transaction per message batch was 4.98 per order. 2 keeps the
    // bound on the structure (group commit), not on the machine's timing.
    expect(transactions / ORDERS).toBeLessThanOrEqual(2);
  }, 180_000);
});

/*
 * Issue #10, the live shape: 12 partitions per topic (the default) and each order's events spread
 * over time as the spine produces them, not published together. With the default concurrency (every
 * partition of the five topics) the batches of one fetch share one commit; with 4 they took
 * ceil(partitions with data / 4) commits: 2.1-2.4 per order measured, 0.53-0.63 with the default.
 */
describe('live projector transactions per order, events spread over time, default concurrency', () => {
  const SPREAD_ORDERS = 120;
  let s: Awaited<ReturnType<typeof trackingHarness>>;
  let live: LiveProjector;

  beforeAll(async () => {
    const defaults = trackingConfigFromEnv({});
    s = await trackingHarness('tracking_commits_spread', { topicPartitions: 12, consumerConcurrency: defaults.consumerConcurrency });
    live = new LiveProjector(s.dataSource, s.kafka, s.config, systemClock, testLogger);
    await live.start();
  }, 120_000);

  afterAll(async () => {
    await live?.stop();
    await s?.close();
  });

  it('commits at most 1.2 transactions per order (2.1-2.4 with a concurrency of 4)', async () => {
    expect(s.config.consumerConcurrency).toBe(5 * 12);
    const stats = live.stats;
    if (!stats) throw new Error('projector not started');
    const spread = mixedWorkload({ orders: SPREAD_ORDERS, seed: 29, idPrefix: 's' });
    // Order i's j-th message goes out at tick i + 2j, a tick every 40 ms: 25 orders/s, stages trickling in.
    const ticks = new Map<number, WorkloadMessage[]>();
    const seen = new Map<string, number>();
    for (const m of spread.messages) {
      const j = seen.get(m.key) ?? 0;
      seen.set(m.key, j + 1);
      const tick = (Number(m.key.replace(/\D/g, '')) || 0) + 2 * j;
      ticks.set(tick, [...(ticks.get(tick) ?? []), m]);
    }
    const before = stats.transactions;
    const start = Date.now();
    const last = Math.max(...ticks.keys());
    for (let t = 0; t <= last; t++) {
      const batch = ticks.get(t);
      if (batch) await s.publish(batch);
      const wait = start + (t + 1) * 40 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await eventually('every message applied or skipped as a duplicate', async () => (stats.applied + stats.duplicates + stats.deadLettered >= spread.messages.length - 1 ? true : undefined), 120_000, 100);
    const transactions = stats.transactions - before;
    const rows = await s.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table('tracking', 'order_summary')}`);
    expect(rows.rows[0].n).toBe(SPREAD_ORDERS);
    console.log(`tracking live projector, spread flow: ${spread.messages.length} messages of ${SPREAD_ORDERS} orders -> ${transactions} transactions (${(transactions / SPREAD_ORDERS).toFixed(2)} per order)`);
    expect(transactions / SPREAD_ORDERS).toBeLessThanOrEqual(1.2);
  }, 180_000);
});

