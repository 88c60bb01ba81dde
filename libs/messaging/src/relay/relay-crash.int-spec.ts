import { PostgresEventStore, type NewEvent } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConsumer } from '../consumer/run-consumer';
import { createKafka } from '../kafka/config';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { startWorker, type Worker } from '../testing/child';
import { readWholeTopic, waitFor, type ReadMessage } from '../testing/fixtures';

/*
 * The relay runs in a child process that is SIGKILLed at the exact points that matter (a hook
 * in the relay kills its own process) or at arbitrary moments from outside. Nothing may be lost;
 * a re-published event must be applied once by an inbox consumer.
 */

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
const workers: Worker[] = [];

beforeAll(async () => {
  db = await createTestDatabase('msg_relay_crash');
  pool = new Pool({ connectionString: db.url, max: 5 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  store = await PostgresEventStore.create({ connectionString: db.url });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-crash-test' });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await store?.close();
  await pool?.end();
  await db?.drop();
});

function event(orderId: string, n: number): NewEvent {
  return {
    eventId: `${orderId}-${n}`,
    type: 'OrderNoted',
    data: { orderId, n },
    metadata: { correlationId: `corr-${orderId}`, causationId: null, occurredAt: new Date().toISOString() },
  };
}

/** A relay process for the streams `order-<streamPrefix>...`, named after the prefix. */
function relay(topic: string, streamPrefix: string, crashAt?: 'before-publish' | 'after-publish'): Worker {
  const w = startWorker('relay-worker', { databaseUrl: db.url, brokers: kafkaBrokers(), topicPrefix: prefix, topic, relayName: streamPrefix, streamPrefix: `order-${streamPrefix}`, crashAt });
  workers.push(w);
  return w;
}

async function stopGracefully(w: Worker): Promise<void> {
  w.proc.kill('SIGTERM');
  await w.waitForLine((l) => l.includes('"stopped"'));
  await w.exited;
}

async function checkpoint(name: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE relay_name = $1', [name]);
  return rows[0]?.position;
}

async function topicMessages(topic: string): Promise<ReadMessage[]> {
  return readWholeTopic(kafka, admin, names.physical(topic));
}

async function untilMessages(topic: string, count: number): Promise<ReadMessage[]> {
  return waitFor(`${count} messages`, async () => {
    const m = await topicMessages(topic);
    return m.length >= count ? m : undefined;
  });
}

describe('relay killed at any point', () => {
  it('killed after the append committed but before publishing: the event is published after restart', async () => {
    const topic = 'crash-before.events.v1';
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    const orders = ['p1', 'p2', 'p3', 'p4'];
    for (const o of orders) await store.appendToStream(`order-${o}`, [0, 1, 2, 3, 4].map((n) => event(o, n)));

    // This one dies inside its first batch, before anything reached the broker.
    const crashing = relay(topic, 'p', 'before-publish');
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(await topicMessages(topic)).toEqual([]);
    expect(await checkpoint('p')).toBeUndefined();

    const restarted = relay(topic, 'p');
    const messages = await untilMessages(topic, 20);
    await stopGracefully(restarted);
    expect(messages).toHaveLength(20);
    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(20);
    for (const o of orders) {
      expect(messages.filter((m) => m.key === o).map((m) => m.headers.eventId)).toEqual([0, 1, 2, 3, 4].map((n) => `${o}-${n}`));
    }
    expect(await checkpoint('p')).toBeDefined();
  });

  it('killed after publishing but before the checkpoint: the batch is published again and the consumer applies each event once', async () => {
    const topic = 'crash-after.events.v1';
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    const orders = ['q1', 'q2', 'q3', 'q4'];
    for (const o of orders) await store.appendToStream(`order-${o}`, [0, 1, 2, 3, 4].map((n) => event(o, n)));

    const crashing = relay(topic, 'q', 'after-publish');
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(await topicMessages(topic)).toHaveLength(20); // acknowledged by the broker
    expect(await checkpoint('q')).toBeUndefined(); // but not recorded

    const restarted = relay(topic, 'q');
    const messages = await untilMessages(topic, 40);
    await stopGracefully(restarted);
    // Every event twice: the duplicate publish really happened.
    expect(messages).toHaveLength(40);
    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(20);

    await pool.query('CREATE TABLE applied (id bigserial PRIMARY KEY, event_id text NOT NULL)');
    const groupId = `after-${uniqueSuffix()}`;
    const consumer = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      pool,
      handler: async (envelope, tx) => {
        await tx.query('INSERT INTO applied (event_id) VALUES ($1)', [envelope.eventId]);
      },
    });
    const seen = async (name: string) => (await register.getSingleMetric(name)!.get()).values.find((v) => v.labels.group === groupId)?.value ?? 0;
    await waitFor('40 messages handled', async () => (await seen('flowline_consumer_processed_total')) + (await seen('flowline_consumer_duplicates_total')) === 40 || undefined);
    await consumer.stop();
    const { rows } = await pool.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM applied');
    expect(rows[0]).toEqual({ n: 20, d: 20 });
    expect(await seen('flowline_consumer_duplicates_total')).toBe(20);
  });

  it('loses nothing when SIGKILLed at arbitrary moments while events keep being appended', async () => {
    const topic = 'crash-random.events.v1';
    await ensureTopics(admin, [topic], { partitions: 6, prefix });
    const orders = Array.from({ length: 20 }, (_, i) => `r${i}`);
    let rounds = 0;
    let kills = 0;
    // Appends keep coming until the relay process has been killed four times.
    const appends = (async () => {
      while (kills < 4) {
        await Promise.all(orders.map((o) => store.appendToStream(`order-${o}`, [event(o, rounds)])));
        rounds++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    while (kills < 4) {
      const w = relay(topic, 'r');
      await w.waitForLine((l) => l.includes('"ready"'));
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)));
      w.proc.kill('SIGKILL');
      await w.exited;
      kills++;
    }
    await appends;
    const last = relay(topic, 'r');
    const total = orders.length * rounds;
    const messages = await waitFor('every event', async () => {
      const m = await topicMessages(topic);
      return new Set(m.map((x) => x.headers.eventId)).size >= total ? m : undefined;
    });
    await stopGracefully(last);
    if (process.env.RELAY_CRASH_STATS) console.info(`rounds ${rounds}, events ${total}, messages ${messages.length}`);

    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(total);
    // Re-sends repeat a suffix; the first time each event appears, per order, is in order.
    for (const o of orders) {
      const firsts: string[] = [];
      for (const m of messages.filter((x) => x.key === o)) if (!firsts.includes(m.headers.eventId)) firsts.push(m.headers.eventId);
      expect(firsts).toEqual(Array.from({ length: rounds }, (_, n) => `${o}-${n}`));
    }
  });
});
