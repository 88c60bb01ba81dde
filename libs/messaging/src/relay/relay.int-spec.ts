import { comparePositions, PostgresEventStore, positionToString, type NewEvent, type RecordedEvent } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKafka } from '../kafka/config';
import { decodeEnvelope } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, waitFor, type ReadMessage } from '../testing/fixtures';
import { PgCheckpointStore } from './checkpoint-store';
import { EventRelay, relayCheckpointIntervalFromEnv, type RelayRouter } from './event-relay';

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const exporter = new InMemorySpanExporter();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
const relays: EventRelay[] = [];

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  db = await createTestDatabase('msg_relay');
  pool = new Pool({ connectionString: db.url, max: 5 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  store = await PostgresEventStore.create({ connectionString: db.url, pollIntervalMs: 50 });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-test' });
  admin = kafka.admin();
  await admin.connect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await store?.close();
  await pool?.end();
  await db?.drop();
  trace.disable();
  propagation.disable();
  context.disable();
});

function orderEvent(orderId: string, n: number, type = 'OrderNoted'): NewEvent {
  return {
    eventId: `${orderId}-${n}`,
    type,
    data: { orderId, n, internalNote: 'stays in the service' },
    metadata: { correlationId: `corr-${orderId}`, causationId: n === 0 ? null : `${orderId}-${n - 1}`, occurredAt: new Date(Date.now() - 60_000).toISOString() },
  };
}

async function appendOrders(orders: string[], perOrder: number, from = 0, type?: (n: number) => string): Promise<void> {
  for (let n = from; n < from + perOrder; n++) {
    await Promise.all(orders.map((o) => store.appendToStream(`order-${o}`, [orderEvent(o, n, type?.(n))])));
  }
}

function startRelay(name: string, route: RelayRouter, extra: Partial<ConstructorParameters<typeof EventRelay>[0]> = {}): EventRelay {
  const relay = new EventRelay({ name, store, publisher, pool, route, filter: { streamPrefixes: ['order-'] }, ...extra });
  relays.push(relay);
  return relay;
}

async function readUntil(topic: string, count: number): Promise<ReadMessage[]> {
  return waitFor(`${count} messages on ${topic}`, async () => {
    const msgs = await readWholeTopic(kafka, admin, names.physical(topic));
    return msgs.length >= count ? msgs : undefined;
  });
}

async function checkpointRow(name: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE relay_name = $1', [name]);
  return rows[0]?.position;
}

describe('EventRelay', () => {
  it('publishes mapped events in per-order order and checkpoints the last acknowledged position', async () => {
    const topic = 'relay1.events.v1';
    await ensureTopics(admin, [topic], { partitions: 4, prefix });
    const orders = ['a1', 'a2', 'a3', 'a4', 'a5'];
    // Every third event is internal (route -> null): it moves the checkpoint but is not published.
    await appendOrders(orders, 12, 0, (n) => (n % 3 === 2 ? 'OrderInternalNoteAdded' : 'OrderNoted'));
    const route: RelayRouter = (e: RecordedEvent) => {
      if (e.type === 'OrderInternalNoteAdded') return null;
      const data = e.data as { orderId: string; n: number };
      return { topic, key: data.orderId, type: 'OrderNoted', schemaVersion: 1, data: { orderId: data.orderId, n: data.n } };
    };
    const relay = startRelay('relay1', route, { filter: { streamPrefixes: ['order-a'] } });
    await relay.start();
    expect(relay.status).toBe('running');

    const expected = orders.length * 8;
    const messages = await readUntil(topic, expected);
    expect(messages).toHaveLength(expected);
    for (const o of orders) {
      const mine = messages.filter((m) => m.key === o);
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
      expect(mine.map((m) => decodeEnvelope(Buffer.from(m.value!)).streamPosition)).toEqual([0, 1, 3, 4, 6, 7, 9, 10]);
    }
    const first = decodeEnvelope(Buffer.from(messages.find((m) => m.key === 'a1')!.value!));
    const stored = (await store.readStream('order-a1'))[0];
    expect(first).toEqual({
      eventId: 'a1-0',
      type: 'OrderNoted',
      schemaVersion: 1,
      streamId: 'order-a1',
      streamPosition: 0,
      occurredAt: stored.metadata.occurredAt,
      correlationId: 'corr-a1',
      causationId: null,
      data: { orderId: 'a1', n: 0 },
    });

    const last = (await store.readAll({ filter: { streamPrefixes: ['order-a'] } })).at(-1)!;
    await waitFor('checkpoint at the last event', async () => (await checkpointRow('relay1')) === positionToString(last.position) || undefined);
    expect(await relay.lag()).toEqual({ events: 0, seconds: 0 });
  });

  it('continues the append trace in a relay.publish span and sends that span as traceparent', async () => {
    const topic = 'relay2.events.v1';
    await ensureTopics(admin, [topic], { partitions: 2, prefix });
    exporter.reset();
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('POST /orders', async (span) => {
      await store.appendToStream('order-traced', [orderEvent('traced', 0)]);
      span.end();
    });
    const relay = startRelay('relay2', (e) => ({ topic, key: (e.data as { orderId: string }).orderId }), { filter: { streamPrefixes: ['order-traced'] } });
    await relay.start();
    const [message] = await readUntil(topic, 1);

    const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /orders')!;
    const append = exporter.getFinishedSpans().find((s) => s.name === 'eventstore.append')!;
    const publish = await waitFor('relay.publish span', () => exporter.getFinishedSpans().find((s) => s.name === 'relay.publish'));
    expect(append.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(publish.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(publish.parentSpanContext?.spanId).toBe(append.spanContext().spanId);
    expect(message.headers.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
    expect(publish.attributes['messaging.destination.name']).toBe(topic);
  });

  it('resumes from its checkpoint after a stop without publishing anything twice', async () => {
    const topic = 'relay3.events.v1';
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    const route: RelayRouter = (e) => ({ topic, key: (e.data as { orderId: string }).orderId });
    await appendOrders(['b1', 'b2'], 10);
    const first = startRelay('relay3', route, { filter: { streamPrefixes: ['order-b'] } });
    await first.start();
    await readUntil(topic, 20);
    await first.stop();

    await appendOrders(['b1', 'b2'], 5, 10);
    const second = startRelay('relay3', route, { filter: { streamPrefixes: ['order-b'] } });
    await second.start();
    const messages = await readUntil(topic, 30);
    await waitFor('caught up', async () => (await second.lag()).events === 0 || undefined);
    expect(messages).toHaveLength(30);
    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(30);
  });

  it('reports its lag in events and seconds through prom-client', async () => {
    const route: RelayRouter = (e) => ({ topic: 'relay4.events.v1', key: (e.data as { orderId: string }).orderId });
    await ensureTopics(admin, ['relay4.events.v1'], { partitions: 1, prefix });
    await appendOrders(['c1'], 7);
    const relay = startRelay('relay4', route, { filter: { streamPrefixes: ['order-c'] } });
    // Not started: the checkpoint is the start of the log.
    const lag = await relay.lag();
    expect(lag.events).toBe(7);
    expect(lag.seconds).toBeGreaterThanOrEqual(59);
    await relay.start();
    await readUntil('relay4.events.v1', 7);
    await waitFor('lag 0', async () => (await relay.lag()).events === 0 || undefined);
    const scraped = await register.getSingleMetricAsString('flowline_relay_lag_events');
    expect(scraped).toContain('flowline_relay_lag_events{relay="relay4"} 0');
    const published = await register.getSingleMetric('flowline_relay_published_total')!.get();
    expect(published.values.find((v) => v.labels.relay === 'relay4')?.value).toBe(7);
  });

  it("counts its lag from where its subscription has read, not again over the rows its filter leaves out", async () => {
    const topic = 'relay-skip.events.v1';
    await ensureTopics(admin, [topic], { partitions: 1, prefix });
    const relay = startRelay('relay-skip', (e) => ({ topic, key: (e.data as { orderId: string }).orderId }), { filter: { streamPrefixes: ['order-k'] } });
    await appendOrders(['k1'], 2);
    await relay.start();
    await readUntil(topic, 2);
    // Rows of other streams after the last published event: the relay's checkpoint stays behind them.
    await appendOrders(['z1', 'z2', 'z3'], 40);
    const lastSkipped = (await store.readAll({ filter: { streamPrefixes: ['order-z'] } })).at(-1)!.position;
    const reads = vi.spyOn(store, 'readAll');
    try {
      await waitFor('lag read from past the skipped rows', async () => {
        expect(await relay.lag()).toEqual({ events: 0, seconds: 0 });
        const after = reads.mock.calls.at(-1)?.[0]?.after;
        return after && comparePositions(after, lastSkipped) >= 0 ? true : undefined;
      });
    } finally {
      reads.mockRestore();
    }
    // A matching event after the skipped rows is still counted, then published (by the next leader, from the checkpoint).
    await relay.stop();
    await appendOrders(['k1'], 1, 2);
    expect((await relay.lag()).events).toBe(1);
    const next = startRelay('relay-skip', (e) => ({ topic, key: (e.data as { orderId: string }).orderId }), { filter: { streamPrefixes: ['order-k'] } });
    await next.start();
    const messages = await readUntil(topic, 3);
    expect(messages.map((m) => decodeEnvelope(Buffer.from(m.value!)).eventId)).toEqual(['k1-0', 'k1-1', 'k1-2']);
    await waitFor('lag 0 after publishing', async () => ((await next.lag()).events === 0 ? true : undefined));
  });

  it('runs one replica at a time: a standby takes over from the checkpoint when the leader stops', async () => {
    const topic = 'relay5.events.v1';
    await ensureTopics(admin, [topic], { partitions: 2, prefix });
    const route: RelayRouter = (e) => ({ topic, key: (e.data as { orderId: string }).orderId });
    const options = { filter: { streamPrefixes: ['order-d'] }, standbyPollMs: 200 };
    const leader = startRelay('relay5', route, options);
    const standby = startRelay('relay5', route, options);
    await leader.start();
    await standby.start();
    expect(leader.status).toBe('running');
    expect(standby.status).toBe('standby');

    await appendOrders(['d1'], 5);
    await readUntil(topic, 5);
    await leader.stop();
    await waitFor('standby takes over', () => standby.status === 'running' || undefined, 10_000);
    await appendOrders(['d1'], 5, 5);
    const messages = await readUntil(topic, 10);
    expect(messages.map((m) => m.headers.eventId)).toEqual(Array.from({ length: 10 }, (_, i) => `d1-${i}`));
  });
  it('with checkpointIntervalMs writes the checkpoint at most once an interval, catches up by timer and on stop', async () => {
    const topic = 'relay6.events.v1';
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    const route: RelayRouter = (e) => ({ topic, key: (e.data as { orderId: string }).orderId });
    const writes: string[] = [];
    const counted = new PgCheckpointStore(pool);
    const checkpoints = {
      load: (name: string) => counted.load(name),
      save: async (name: string, position: Parameters<PgCheckpointStore['save']>[1]) => {
        writes.push(positionToString(position));
        await counted.save(name, position);
      },
      saveFenced: async (...args: Parameters<PgCheckpointStore['saveFenced']>) => {
        writes.push(positionToString(args[1]));
        return counted.saveFenced(...args);
      },
    };
    const filter = { streamPrefixes: ['order-f'] };
    let heard = 0; // events afterCheckpoint was told of: every published one, deferred writes included
    const relay = startRelay('relay6', route, { filter, checkpoints, checkpointIntervalMs: 600, lingerMs: 1, hooks: { afterCheckpoint: (evs) => void (heard += evs.length) } });
    await relay.start();
    // Ten rounds ~40 ms apart: ten or so published batches inside one or two intervals.
    const started = Date.now();
    for (let round = 0; round < 10; round++) {
      await appendOrders(['f1', 'f2'], 1, round);
      await readUntil(topic, (round + 1) * 2);
      await new Promise((r) => setTimeout(r, 40));
    }
    const elapsed = Date.now() - started;
    const last = (await store.readAll({ filter })).at(-1)!;
    // No stop: the timer writes the last published position at the end of its interval.
    await waitFor('checkpoint caught up by the timer', async () => (await checkpointRow('relay6')) === positionToString(last.position) || undefined);
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(elapsed / 600) + 2);
    expect(writes.length).toBeLessThan(10);
    expect(writes.at(-1)).toBe(positionToString(last.position));

    // Published inside an interval, then stopped: stop() writes it before returning.
    await appendOrders(['f1', 'f2'], 1, 10);
    await readUntil(topic, 22);
    await relay.stop();
    const end = (await store.readAll({ filter })).at(-1)!;
    expect(await checkpointRow('relay6')).toBe(positionToString(end.position));
    expect(heard).toBe(22);

    // A successor resumes there: nothing published twice.
    await appendOrders(['f1'], 1, 11);
    const next = startRelay('relay6', route, { filter, checkpointIntervalMs: 600 });
    await next.start();
    const messages = await readUntil(topic, 23);
    await waitFor('caught up', async () => (await next.lag()).events === 0 || undefined);
    expect(messages).toHaveLength(23);
    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(23);
  });

  it('reads RELAY_CHECKPOINT_INTERVAL_MS (default 250 ms, 0 = every batch) and names a bad value', () => {
    expect(relayCheckpointIntervalFromEnv({})).toBe(250);
    expect(relayCheckpointIntervalFromEnv({ RELAY_CHECKPOINT_INTERVAL_MS: '0' })).toBe(0);
    expect(relayCheckpointIntervalFromEnv({ RELAY_CHECKPOINT_INTERVAL_MS: '1000' })).toBe(1000);
    expect(() => relayCheckpointIntervalFromEnv({ RELAY_CHECKPOINT_INTERVAL_MS: '-5' })).toThrow(/RELAY_CHECKPOINT_INTERVAL_MS/);
    expect(() => relayCheckpointIntervalFromEnv({ RELAY_CHECKPOINT_INTERVAL_MS: 'soon' })).toThrow(/RELAY_CHECKPOINT_INTERVAL_MS/);
  });
});
