import { PostgresEventStore, type NewEvent } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { decodeEnvelope } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, waitFor } from '../testing/fixtures';
import { EventRelay } from './event-relay';

/**
 * The relay publishes an event when the transaction that appended it commits (issue #10 item 3):
 * its store polls once an hour, so within the test's generous wait only the commit wake-up can
 * bring the event to Kafka. Real Kafka and PostgreSQL.
 */
const HOUR = 3_600_000;
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'wake.events.v1';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let relayStore: PostgresEventStore;
let handlerStore: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
let relay: EventRelay;

beforeAll(async () => {
  db = await createTestDatabase('msg_relay_wake');
  pool = new Pool({ connectionString: db.url, max: 5 });
  pool.on('error', () => undefined); // DROP DATABASE ... FORCE at teardown
  relayStore = await PostgresEventStore.create({ pool, pollIntervalMs: HOUR });
  // The service's handlers append through their own store object on the same database.
  handlerStore = await PostgresEventStore.create({ pool, pollIntervalMs: HOUR });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-wake-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 3, prefix, deadLetters: false });
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
  relay = new EventRelay({
    name: 'wake',
    store: relayStore,
    publisher,
    pool,
    lingerMs: 1,
    route: (e) => ({ topic: TOPIC, key: (e.data as { orderId: string }).orderId }),
  });
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await relayStore?.close();
  await handlerStore?.close();
  await pool?.end();
  await db?.drop();
});

function event(orderId: string, n: number): NewEvent {
  return { eventId: `${orderId}-${n}`, type: 'OrderNoted', data: { orderId, n }, metadata: { correlationId: orderId, causationId: null, occurredAt: new Date().toISOString() } };
}

async function published(): Promise<number> {
  return (await admin.fetchTopicOffsets(names.physical(TOPIC))).reduce((sum, p) => sum + Number(p.high), 0);
}

describe('relay wake-up on commit (store poll interval: one hour)', () => {
  it('publishes events appended inside transactions without waiting for a poll', async () => {
    // First event: the relay's first read may take it; afterwards the relay sleeps on the hour-long poll.
    await handlerStore.appendToStream('order-a', [event('a', 0)]);
    await waitFor('the first event on Kafka', async () => (await published()) >= 1, 60_000, 20);

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await handlerStore.appendToStreamsWithin(client, [
        { streamId: 'order-a', events: [event('a', 1)], expectedRevision: 0 },
        { streamId: 'order-b', events: [event('b', 0)], expectedRevision: 'no_stream' },
      ]);
      await client.query('COMMIT');
      await client.query('BEGIN');
      await handlerStore.appendToStreamWithin(client, 'order-b', [event('b', 1)], { expectedRevision: 0 });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await waitFor('four events on Kafka', async () => (await published()) >= 4, 60_000, 20);

    const messages = await readWholeTopic(kafka, admin, names.physical(TOPIC));
    const ids = messages.map((m) => decodeEnvelope(Buffer.from(m.value ?? '')).eventId);
    expect(ids.sort()).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
    // Per-key order kept.
    for (const key of ['a', 'b']) expect(messages.filter((m) => m.key === key).map((m) => decodeEnvelope(Buffer.from(m.value ?? '')).eventId)).toEqual([`${key}-0`, `${key}-1`]);
  });
});
