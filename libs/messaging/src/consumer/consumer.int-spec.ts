import type { EventEnvelope } from '@flowline/contracts';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { DataSource, EntitySchema } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { Headers } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, testEnvelope, waitFor } from '../testing/fixtures';
import { runConsumer, type ConsumerHandle } from './run-consumer';
import { typeormTransactions } from './transactions';

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
const handles: ConsumerHandle[] = [];

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  db = await createTestDatabase('msg_consumer');
  pool = new Pool({ connectionString: db.url, max: 5 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'consumer-test' });
  admin = kafka.admin();
  await admin.connect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  for (const h of handles) await h.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
  trace.disable();
  context.disable();
});

async function freshTopic(label: string, partitions = 1): Promise<string> {
  const topic = `${label}.events.v1`;
  await ensureTopics(admin, [topic], { partitions, prefix });
  return topic;
}

async function effectsTable(name: string): Promise<void> {
  await pool.query(`CREATE TABLE ${name} (id bigserial PRIMARY KEY, event_id text NOT NULL, n integer NOT NULL)`);
}

async function rows(sql: string): Promise<any[]> {
  return (await pool.query(sql)).rows;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = register.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

describe('runConsumer', () => {
  it('dead-letters a poison event after maxRetries retries while later events on its partition are processed', async () => {
    const topic = await freshTopic('poison');
    await effectsTable('poison_effects');
    const groupId = `poison-${uniqueSuffix()}`;
    const attempts = new Map<string, number>();
    const order = 'order-1';
    const events = Array.from({ length: 20 }, (_, i) => testEnvelope(order, i, { poison: i === 4 }));
    await publisher.publish(events.map((envelope) => ({ topic, key: order, envelope })));

    handles.push(
      await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        maxRetries: 2,
        backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
        handler: async (envelope, tx) => {
          attempts.set(envelope.eventId, (attempts.get(envelope.eventId) ?? 0) + 1);
          const data = envelope.data as { n: number; poison: boolean };
          if (data.poison) throw new Error(`cannot apply ${envelope.eventId}`);
          await tx.query('INSERT INTO poison_effects (event_id, n) VALUES ($1, $2)', [envelope.eventId, data.n]);
        },
      }),
    );

    await waitFor('19 effects', async () => (await rows('SELECT count(*)::int AS n FROM poison_effects'))[0].n === 19 || undefined);
    const dead = await waitFor('a dead letter', async () => {
      const msgs = await readWholeTopic(kafka, admin, names.deadLetter(topic));
      return msgs.length > 0 ? msgs : undefined;
    });
    expect(dead).toHaveLength(1);
    const [letter] = dead;
    const poison = events[4];
    expect(JSON.parse(letter.value!)).toEqual(poison);
    expect(letter.key).toBe(order);
    expect(letter.headers[Headers.eventId]).toBe(poison.eventId);
    expect(letter.headers[Headers.dlqError]).toBe(`cannot apply ${poison.eventId}`);
    expect(letter.headers[Headers.dlqTopic]).toBe(names.physical(topic));
    expect(letter.headers[Headers.dlqPartition]).toBe('0');
    expect(letter.headers[Headers.dlqOffset]).toBe('4');
    expect(letter.headers[Headers.dlqAttempts]).toBe('3');
    expect(letter.headers[Headers.dlqGroup]).toBe(groupId);
    expect(attempts.get(poison.eventId)).toBe(3);

    // Events after the poison one, on the same partition, were applied in order.
    const applied = (await rows('SELECT n FROM poison_effects ORDER BY id')).map((r) => r.n);
    expect(applied).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 4));
    await waitFor('offsets committed to the end', async () => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
      return t.partitions[0].offset === '20' || undefined;
    });
    expect(await metric('flowline_consumer_dead_letters_total', { group: groupId })).toBe(1);
    expect(await metric('flowline_consumer_retries_total', { group: groupId })).toBe(2);
    expect(await metric('flowline_consumer_processed_total', { group: groupId })).toBe(19);
    expect(await metric('flowline_consumer_lag', { group: groupId })).toBe(0);
  });

  it('rolls back a failed try with its inbox row, retries, and applies the event once', async () => {
    const topic = await freshTopic('transient');
    await effectsTable('transient_effects');
    const groupId = `transient-${uniqueSuffix()}`;
    let tries = 0;
    await publisher.publish([{ topic, key: 'o', envelope: testEnvelope('o', 0) }]);
    handles.push(
      await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        maxRetries: 3,
        backoff: { initialMs: 10, maxMs: 50, jitter: 0 },
        handler: async (envelope, tx, message) => {
          tries++;
          // The effect is written, then the try fails: the transaction must take it back.
          await tx.query('INSERT INTO transient_effects (event_id, n) VALUES ($1, $2)', [envelope.eventId, message.attempt]);
          if (message.attempt < 3) throw new Error('database hiccup');
        },
      }),
    );
    await waitFor('the effect', async () => (await rows('SELECT * FROM transient_effects')).length > 0 || undefined);
    await waitFor('offset committed', async () => (await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] }))[0].partitions[0].offset === '1' || undefined);
    expect(await rows('SELECT event_id, n FROM transient_effects')).toEqual([{ event_id: 'o-0', n: 3 }]);
    expect(tries).toBe(3);
    expect(await rows(`SELECT consumer_group, event_id FROM messaging_inbox WHERE consumer_group = '${groupId}'`)).toEqual([{ consumer_group: groupId, event_id: 'o-0' }]);
    expect(await metric('flowline_consumer_dead_letters_total', { group: groupId })).toBe(0);
  });

  it('skips a message whose eventId the group already applied (redelivery or duplicate publish)', async () => {
    const topic = await freshTopic('dupes', 2);
    await effectsTable('dupe_effects');
    const groupId = `dupes-${uniqueSuffix()}`;
    const e = testEnvelope('a', 1);
    const other = testEnvelope('b', 1);
    // Published twice (as a relay re-sending after a crash would), and under two keys.
    await publisher.publish([
      { topic, key: 'a', envelope: e },
      { topic, key: 'b', envelope: other },
      { topic, key: 'a', envelope: e },
      { topic, key: 'zz', envelope: e },
    ]);
    handles.push(
      await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        handler: async (envelope, tx) => {
          await tx.query('INSERT INTO dupe_effects (event_id, n) VALUES ($1, 1)', [envelope.eventId]);
        },
      }),
    );
    await waitFor('4 messages seen', async () => (await metric('flowline_consumer_processed_total', { group: groupId })) + (await metric('flowline_consumer_duplicates_total', { group: groupId })) === 4 || undefined);
    expect((await rows('SELECT event_id FROM dupe_effects ORDER BY event_id')).map((r) => r.event_id)).toEqual(['a-1', 'b-1']);
    expect(await metric('flowline_consumer_duplicates_total', { group: groupId })).toBe(2);
  });

  it('sends a message that is not an envelope straight to the dead-letter topic', async () => {
    const topic = await freshTopic('garbage');
    const groupId = `garbage-${uniqueSuffix()}`;
    let handled = 0;
    await publisher.publishRaw([{ topic: names.physical(topic), key: 'k', value: '{not json', headers: { source: 'test' } }]);
    await publisher.publish([{ topic, key: 'k', envelope: testEnvelope('k', 0) }]);
    handles.push(
      await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        handler: async () => {
          handled++;
        },
      }),
    );
    const dead = await waitFor('a dead letter', async () => {
      const msgs = await readWholeTopic(kafka, admin, names.deadLetter(topic));
      return msgs.length > 0 ? msgs : undefined;
    });
    await waitFor('the good message', () => handled === 1 || undefined);
    expect(dead[0].value).toBe('{not json');
    expect(dead[0].headers.source).toBe('test');
    expect(dead[0].headers[Headers.dlqAttempts]).toBe('1');
    expect(dead[0].headers[Headers.dlqError]).toMatch(/not JSON/);
  });

  it('runs the handler in a "consume <topic>" span whose parent is the traceparent header', async () => {
    const topic = await freshTopic('traced');
    const groupId = `traced-${uniqueSuffix()}`;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    let activeInHandler: string | undefined;
    await publisher.publish([{ topic, key: 't', envelope: testEnvelope('t', 0), traceparent: `00-${traceId}-${parentSpanId}-01` }]);
    handles.push(
      await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        handler: async () => {
          activeInHandler = trace.getActiveSpan()?.spanContext().traceId;
        },
      }),
    );
    const span = await waitFor('the consume span', () => exporter.getFinishedSpans().find((s) => s.name === `consume ${topic}`));
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(span.attributes['messaging.consumer.group.name']).toBe(groupId);
    expect(activeInHandler).toBe(traceId);
  });

  it('gives a TypeORM handler an EntityManager in the same transaction as the inbox row', async () => {
    const topic = await freshTopic('typeorm');
    const groupId = `typeorm-${uniqueSuffix()}`;
    const View = new EntitySchema<{ orderId: string; lastEvent: string; applied: number }>({
      name: 'order_view',
      columns: { orderId: { type: 'text', primary: true, name: 'order_id' }, lastEvent: { type: 'text', name: 'last_event' }, applied: { type: 'int' } },
    });
    const dataSource = new DataSource({ type: 'postgres', url: db.url, entities: [View], synchronize: true });
    await dataSource.initialize();
    try {
      let failedOnce = false;
      await publisher.publish([0, 1, 2].map((n) => ({ topic, key: 'o1', envelope: testEnvelope('o1', n) })));
      await publisher.publish([{ topic, key: 'o1', envelope: testEnvelope('o1', 1) }]);
      const handle = await runConsumer({
        kafka,
        groupId,
        topics: [topic],
        topicPrefix: prefix,
        transactions: typeormTransactions(dataSource),
        backoff: { initialMs: 10, maxMs: 10, jitter: 0 },
        handler: async (envelope: EventEnvelope, tx) => {
          const repo = tx.manager.getRepository(View);
          const row = (await repo.findOneBy({ orderId: 'o1' })) ?? { orderId: 'o1', lastEvent: '', applied: 0 };
          await repo.save({ ...row, lastEvent: envelope.eventId, applied: row.applied + 1 });
          if (envelope.eventId === 'o1-2' && !failedOnce) {
            failedOnce = true;
            throw new Error('rolled back with the inbox row');
          }
        },
      });
      handles.push(handle);
      await waitFor('4 messages seen', async () => (await metric('flowline_consumer_processed_total', { group: groupId })) + (await metric('flowline_consumer_duplicates_total', { group: groupId })) === 4 || undefined);
      expect(await dataSource.getRepository(View).find()).toEqual([{ orderId: 'o1', lastEvent: 'o1-2', applied: 3 }]);
      expect(failedOnce).toBe(true);
    } finally {
      await dataSource.destroy();
    }
  });
});
