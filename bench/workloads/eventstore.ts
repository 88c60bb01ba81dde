/**
 * Event store workload: appends/s (single events at concurrency 32, batches of 50, also with
 * NOTIFY on), how fast subscribeToAll delivers a backlog of at least 50,000 events, and the live
 * delivery lag, against a fresh PostgreSQL database.
 *
 * Run alone: `node -r @swc-node/register bench/workloads/eventstore.ts [durationSec]`.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { type NewEvent, PostgresEventStore, type RecordedEvent } from '../../libs/eventstore/src/index';
import { createTestDatabase } from '../../libs/testing/src/infra';
import { type Figures, percentile } from '../lib/harness';

const SINGLE_CONCURRENCY = 32;
const BATCH_SIZE = 50;
const BATCH_CONCURRENCY = 8;
const CATCH_UP_EVENTS = 50_000;

function newEvent(i: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'OrderPlaced',
    data: { orderId: `o-${i}`, channel: 'tmall', lines: [{ sku: 'SKU-1', qty: 1, price: { amount: 1999, currency: 'CNY' } }] },
    metadata: { correlationId: randomUUID(), causationId: null, occurredAt: new Date().toISOString(), actor: { kind: 'channel', id: 'tmall' } },
  };
}

/** `workers` loops, each appending `batch` events per call to its own streams (10 events per stream), for `seconds`. */
async function appendFor(store: PostgresEventStore, seconds: number, workers: number, batch: number) {
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let appends = 0;
  let events = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let stream = `bench-${w}-${randomUUID().slice(0, 8)}`;
      let revision: number | 'no_stream' = 'no_stream';
      let i = 0;
      while (Date.now() < deadline) {
        const t = performance.now();
        const r = await store.appendToStream(
          stream,
          Array.from({ length: batch }, () => newEvent(i++)),
          { expectedRevision: revision },
        );
        latencies.push(performance.now() - t);
        appends++;
        events += batch;
        revision = r.nextExpectedRevision;
        if (batch === 1 && revision >= 9) {
          stream = `bench-${w}-${randomUUID().slice(0, 8)}`;
          revision = 'no_stream';
        }
      }
    }),
  );
  const sec = (Date.now() - started) / 1000;
  return {
    appendsPerSec: Math.round(appends / sec),
    eventsPerSec: Math.round(events / sec),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
  };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function countEvents(pool: Pool): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM eventstore.events')).rows[0].n;
}

export async function run(opts: { durationSec: number }): Promise<Figures> {
  const phaseSec = Math.max(3, Math.round(opts.durationSec / 4));
  const db = await createTestDatabase('bench_eventstore');
  const pool = new Pool({ connectionString: db.url, max: SINGLE_CONCURRENCY + 4 });
  pool.on('error', () => undefined);
  const store = await PostgresEventStore.create({ pool });
  const figures: Figures = {};
  try {
    const single = await appendFor(store, phaseSec, SINGLE_CONCURRENCY, 1);
    figures['single.appendsPerSec'] = single.appendsPerSec;
    figures['single.p50ms'] = single.p50ms;
    figures['single.p99ms'] = single.p99ms;
    console.log(`single-event appends, concurrency ${SINGLE_CONCURRENCY}:`, single);

    // The same with { notify: true }: what cross-process NOTIFY wake-ups cost writers.
    const notifying = await PostgresEventStore.create({ pool, notify: true });
    const loud = await appendFor(notifying, phaseSec, SINGLE_CONCURRENCY, 1);
    await notifying.close();
    figures['single.appendsPerSec.withNotify'] = loud.appendsPerSec;
    console.log(`single-event appends with notify: true:`, loud);

    const batched = await appendFor(store, phaseSec, BATCH_CONCURRENCY, BATCH_SIZE);
    figures['batched50.appendsPerSec'] = batched.appendsPerSec;
    figures['batched50.eventsPerSec'] = batched.eventsPerSec;
    figures['batched50.p50ms'] = batched.p50ms;
    console.log(`batched appends (${BATCH_SIZE} events), concurrency ${BATCH_CONCURRENCY}:`, batched);

    // Top the log up to the catch-up size, then time a subscriber reading it from the start.
    let stored = await countEvents(pool);
    for (let s = 0; stored < CATCH_UP_EVENTS; s++) {
      const stream = `seed-${s}`;
      for (let rev = -1; rev < 99 && stored < CATCH_UP_EVENTS; rev += BATCH_SIZE) {
        await store.appendToStream(stream, Array.from({ length: BATCH_SIZE }, () => newEvent(rev)), {
          expectedRevision: rev < 0 ? 'no_stream' : rev,
        });
        stored += BATCH_SIZE;
      }
    }
    stored = await countEvents(pool);
    let delivered = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const sub = store.subscribeToAll({
        onEvent: async () => {
          if (++delivered === stored) void sub.stop().then(resolve, reject);
        },
        onError: reject,
      });
    });
    const catchUpSec = (performance.now() - t0) / 1000;
    figures['subscription.catchUpEvents'] = stored;
    figures['subscription.catchUpEventsPerSec'] = Math.round(stored / catchUpSec);
    console.log(`subscribeToAll catch-up: ${stored} events in ${round(catchUpSec)} s`);

    // Live: latency from the append call to its delivery, one append every 10 ms, for a
    // subscriber on the appending store object (woken in-process), on another store object
    // polling every 100 ms (as another process would), and on another store with notify: true.
    const reader = await PostgresEventStore.create({ pool });
    const notifyWriter = await PostgresEventStore.create({ pool, notify: true });
    const notifyReader = await PostgresEventStore.create({ connectionString: db.url, notify: true });
    const lagOf = async (writer: PostgresEventStore, subscriber: PostgresEventStore, label: string) => {
      const sentAt = new Map<string, number>();
      const lags: number[] = [];
      const live = subscriber.subscribeToAll({
        after: await lastPosition(store),
        onEvent: async (e: RecordedEvent) => {
          const t = sentAt.get(e.eventId);
          if (t !== undefined) lags.push(performance.now() - t);
        },
      });
      await new Promise((r) => setTimeout(r, 300)); // caught up (and LISTENing, with notify)
      for (let i = 0; i < 200; i++) {
        const e = newEvent(i);
        sentAt.set(e.eventId, performance.now());
        await writer.appendToStream(`live-${label}-${i % 20}`, [e]);
        await new Promise((r) => setTimeout(r, 10));
      }
      const deadline = Date.now() + 5_000;
      while (lags.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await live.stop();
      figures[`subscription.liveLagP50ms.${label}`] = round(percentile(lags, 50));
      figures[`subscription.liveLagP99ms.${label}`] = round(percentile(lags, 99));
      console.log(`live delivery lag (${label}) over ${lags.length} appends: p50 ${round(percentile(lags, 50))} ms, p99 ${round(percentile(lags, 99))} ms`);
    };
    try {
      await lagOf(store, store, 'sameStore');
      await lagOf(store, reader, 'otherStorePolling');
      await lagOf(notifyWriter, notifyReader, 'otherStoreNotify');
    } finally {
      await Promise.all([reader.close(), notifyWriter.close(), notifyReader.close()]);
    }
  } finally {
    await store.close();
    await pool.end();
    await db.drop();
  }
  return figures;
}

/** Position of the newest event in the log (readAll pages through; fine at bench sizes). */
async function lastPosition(store: PostgresEventStore) {
  let after = undefined as RecordedEvent['position'] | undefined;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 10_000 });
    if (page.length === 0) return after;
    after = page[page.length - 1].position;
  }
}

if (require.main === module) {
  const durationSec = Number(process.argv[2] ?? process.env.BENCH_DURATION_SEC ?? 20);
  run({ durationSec })
    .then((figures) => {
      console.log(JSON.stringify(figures, null, 2));
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
