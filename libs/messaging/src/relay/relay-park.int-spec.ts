import { PostgresEventStore, type NewEvent } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { Headers } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, waitFor } from '../testing/fixtures';
import { EventRelay, ParkedHeaders, type RelayRouter } from './event-relay';

/**
 * Issue #9, must-show 4: one event of a type the relay does not know (an old relay in a rolling
 * deploy, a row written by hand) used to stop the relay for good: it restarted from its
 * checkpoint on the same event every 2 s. Now it is parked in `<topic>.dlq` and the relay publishes
 * what follows.
 */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'parkorders.events.v1';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
let relay: EventRelay | undefined;

beforeAll(async () => {
  db = await createTestDatabase('msg_relay_park');
  pool = new Pool({ connectionString: db.url, max: 4 });
  store = await PostgresEventStore.create({ connectionString: db.url, pollIntervalMs: 50 });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-park-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 2, prefix });
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  await relay?.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await store?.close();
  await pool?.end();
  await db?.drop();
});

const KNOWN = new Set(['OrderPlaced', 'OrderPaid']);
/** Like order-intake's route: an exhaustive switch that throws on a type it was not built with. */
const route: RelayRouter = (recorded) => {
  if (!KNOWN.has(recorded.type)) throw new Error(`unexpected event type ${recorded.type}`);
  return { topic: TOPIC, key: (recorded.data as { orderId: string }).orderId };
};

function event(orderId: string, n: number, type: string): NewEvent {
  return { eventId: `${orderId}-${n}`, type, data: { orderId, n }, metadata: { correlationId: orderId, causationId: null, occurredAt: new Date().toISOString() } };
}

describe('relay and an unroutable event', () => {
  it('parks the unknown event in <topic>.dlq with the reason, publishes the next 100 events, and keeps its checkpoint moving', async () => {
    await store.appendToStream('order-a', [event('a', 0, 'OrderPlaced')]);
    await store.appendToStream('order-a', [event('a', 1, 'OrderTeleported')]);
    for (let i = 0; i < 50; i++) {
      await store.appendToStream(`order-b${i}`, [event(`b${i}`, 0, 'OrderPlaced'), event(`b${i}`, 1, 'OrderPaid')]);
    }
    relay = new EventRelay({ name: 'parkorders', store, publisher, pool, route, filter: { streamPrefixes: ['order-'] }, parkingTopic: TOPIC, restartDelayMs: 200 });
    await relay.start();

    const published = await waitFor(
      '101 messages published',
      async () => {
        const m = await readWholeTopic(kafka, admin, names.physical(TOPIC));
        return m.length >= 101 ? m : undefined;
      },
      60_000,
      500,
    );
    expect(published).toHaveLength(101);
    expect(published.map((m) => JSON.parse(String(m.value)).eventId)).not.toContain('a-1');
    const parked = await readWholeTopic(kafka, admin, names.deadLetter(TOPIC));
    expect(parked).toHaveLength(1);
    const envelope = JSON.parse(String(parked[0].value)) as { eventId: string; type: string; data: unknown };
    expect(envelope).toMatchObject({ eventId: 'a-1', type: 'OrderTeleported', data: { orderId: 'a', n: 1 } });
    expect(parked[0].headers[Headers.dlqError]).toContain('unexpected event type OrderTeleported');
    expect(parked[0].headers[ParkedHeaders.relay]).toBe('parkorders');
    const last = (await store.readAll({ maxCount: 1_000 })).at(-1);
    await waitFor('the checkpoint at the last event', () => relay?.checkpoint.commit === last?.position.commit || undefined, 10_000);
    const metric = await register.getSingleMetric('flowline_relay_parked_total')?.get();
    expect(metric?.values.find((v) => v.labels.relay === 'parkorders')?.value).toBe(1);
  });
});
