import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { jsonLines, startWorker } from '../testing/child';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { runConsumer } from './run-consumer';

/* stop() (what a service's SIGTERM hook calls) in the middle of a batch. */

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  db = await createTestDatabase('msg_consumer_stop');
  pool = new Pool({ connectionString: db.url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'consumer-stop-test' });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function count(sql: string): Promise<number> {
  return Number((await pool.query<{ n: string }>(sql)).rows[0].n);
}

async function committed(groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
  return t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

/** One partition and messages published up front: the consumer's first batch holds them all. */
async function setUp(topic: string, total: number): Promise<void> {
  await ensureTopics(admin, [topic], { partitions: 1, prefix });
  await pool.query('DROP TABLE IF EXISTS effects; DROP TABLE IF EXISTS counter');
  await pool.query('CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text NOT NULL, pid integer NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL)');
  await pool.query('CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL); INSERT INTO counter VALUES (1, 0)');
  const publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
  await publisher.publish(Array.from({ length: total }, (_, i) => ({ topic, key: `o${i % 7}`, envelope: testEnvelope(`o${i % 7}`, i) })));
  await publisher.disconnect();
}

describe('graceful consumer shutdown', () => {
  it('stop() mid-batch finishes the message in hand, commits what was processed and leaves the group', async () => {
    const topic = 'stop.events.v1';
    const total = 300;
    await setUp(topic, total);
    const groupId = `stop-${uniqueSuffix()}`;
    let inHandler = 0;
    let maxOffsetSeen = -1;
    const handle = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      pool,
      handler: async (envelope, tx, message) => {
        inHandler++;
        maxOffsetSeen = Math.max(maxOffsetSeen, Number(message.offset));
        await tx.query('INSERT INTO effects (event_id, pid, partition, "offset") VALUES ($1, $2, $3, $4)', [envelope.eventId, process.pid, message.partition, message.offset]);
        await new Promise((r) => setTimeout(r, 10));
        inHandler--;
      },
    });
    await waitFor('50 applied', async () => (await count('SELECT count(*) AS n FROM effects')) >= 50 || undefined, 30_000, 5);
    const started = Date.now();
    await handle.stop();
    const stopMs = Date.now() - started;

    expect(inHandler).toBe(0);
    const applied = await count('SELECT count(*) AS n FROM effects');
    expect(applied).toBeLessThan(total); // stopped mid-batch, not after draining it
    // Every applied message is committed, and nothing beyond: the next member starts exactly there.
    expect(await committed(groupId, topic)).toBe(applied);
    expect(maxOffsetSeen).toBe(applied - 1);
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0].members).toEqual([]);
    expect(groups[0].state).toBe('Empty');
    expect(stopMs).toBeLessThan(5_000);

    // A new member resumes at the committed offset: no duplicates, nothing missing.
    const next = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      pool,
      handler: async (envelope, tx, message) => {
        await tx.query('INSERT INTO effects (event_id, pid, partition, "offset") VALUES ($1, $2, $3, $4)', [envelope.eventId, 0, message.partition, message.offset]);
      },
    });
    await waitFor('all applied', async () => (await count('SELECT count(*) AS n FROM effects')) >= total || undefined);
    await next.stop();
    expect(await count('SELECT count(*) AS n FROM effects')).toBe(total);
    expect(await count('SELECT count(DISTINCT event_id) AS n FROM effects')).toBe(total);
  });

  it('stop() with drainBatchOnStop finishes the whole batch in hand before leaving', async () => {
    const topic = 'drain.events.v1';
    const total = 200;
    // Published in one request: one record batch, fetched whole by the first fetch.
    await setUp(topic, total);
    const groupId = `drain-${uniqueSuffix()}`;
    const handle = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      pool,
      drainBatchOnStop: true,
      handler: async (envelope, tx, message) => {
        await tx.query('INSERT INTO effects (event_id, pid, partition, "offset") VALUES ($1, $2, $3, $4)', [envelope.eventId, process.pid, message.partition, message.offset]);
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    await waitFor('20 applied', async () => (await count('SELECT count(*) AS n FROM effects')) >= 20 || undefined, 30_000, 5);
    await handle.stop();
    expect(await count('SELECT count(*) AS n FROM effects')).toBe(total);
    expect(await committed(groupId, topic)).toBe(total);
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0].state).toBe('Empty');
  });

  it('SIGTERM to a consumer process stops it cleanly with processed offsets committed', async () => {
    const topic = 'sigterm.events.v1';
    const total = 400;
    await setUp(topic, total);
    const groupId = `sigterm-${uniqueSuffix()}`;
    const config = { brokers: kafkaBrokers(), topicPrefix: prefix, topic, groupId, databaseUrl: db.url, handlerDelayMs: 5 };
    const worker = startWorker('consumer-worker', config);
    await worker.waitForLine((l) => l.includes('"ready"'));
    await waitFor('100 applied', async () => (await count('SELECT n FROM counter')) >= 100 || undefined, 30_000, 5);
    worker.proc.kill('SIGTERM');
    const stopped = jsonLines([await worker.waitForLine((l) => l.includes('"stopped"'))])[0];
    expect(await worker.exited).toEqual({ code: 0, signal: null });

    const applied = await count('SELECT n FROM counter');
    expect(applied).toBeLessThan(total);
    expect(stopped.applied).toBe(applied);
    expect(await committed(groupId, topic)).toBe(applied);
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups[0].state).toBe('Empty');

    const again = startWorker('consumer-worker', config);
    await waitFor('all applied', async () => (await count('SELECT n FROM counter')) >= total || undefined);
    again.proc.kill('SIGTERM');
    const second = jsonLines([await again.waitForLine((l) => l.includes('"stopped"'))])[0];
    await again.exited;
    expect(second.duplicates).toBe(0);
    expect(await count('SELECT count(*) AS n FROM effects')).toBe(total);
    expect(await count('SELECT count(DISTINCT event_id) AS n FROM effects')).toBe(total);
  });
});
