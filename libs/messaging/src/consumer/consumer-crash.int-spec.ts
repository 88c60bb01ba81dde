import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { jsonLines, startWorker } from '../testing/child';
import { testEnvelope, waitFor } from '../testing/fixtures';

/*
 * A consumer process is SIGKILLed in the middle of a batch (some handler transactions committed,
 * their offsets not), restarted, and every event must be applied exactly once.
 */

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;

async function count(sql: string): Promise<number> {
  return Number((await pool.query<{ n: string }>(sql)).rows[0].n);
}

async function committedTotal(groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
  return t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

async function publish(topic: string, n: number): Promise<void> {
  const publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
  const orders = Array.from({ length: 30 }, () => `o${uniqueSuffix()}`);
  for (let i = 0; i < n; i += 250) {
    await publisher.publish(
      Array.from({ length: Math.min(250, n - i) }, (_, j) => {
        const k = i + j;
        const orderId = orders[k % orders.length];
        return { topic, key: orderId, envelope: testEnvelope(orderId, k) };
      }),
    );
  }
  await publisher.disconnect();
}

beforeAll(async () => {
  db = await createTestDatabase('msg_consumer_crash');
  pool = new Pool({ connectionString: db.url, max: 3 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'consumer-crash-test' });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function resetEffects(): Promise<void> {
  await pool.query('DROP TABLE IF EXISTS effects; DROP TABLE IF EXISTS counter');
  await pool.query('CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text NOT NULL, pid integer NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL)');
  await pool.query('CREATE TABLE counter (id integer PRIMARY KEY, n integer NOT NULL); INSERT INTO counter VALUES (1, 0)');
}

function workerConfig(topic: string, groupId: string, extra: Record<string, unknown> = {}) {
  return { brokers: kafkaBrokers(), topicPrefix: prefix, topic, groupId, databaseUrl: db.url, ...extra };
}

async function expectExactlyOnce(total: number): Promise<void> {
  expect(await count('SELECT count(*) AS n FROM effects')).toBe(total);
  expect(await count('SELECT count(DISTINCT event_id) AS n FROM effects')).toBe(total);
  expect(await count('SELECT n FROM counter')).toBe(total);
}

describe('consumer killed mid-batch', () => {
  it('applies every event exactly once after a SIGKILL between handler commits and the offset commit', async () => {
    await resetEffects();
    const topic = 'crash.events.v1';
    const total = 1_500;
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    await publish(topic, total);
    const groupId = `crash-${uniqueSuffix()}`;

    // The 400th message's handler kills the process: 399 transactions committed, offsets mid-batch.
    const first = startWorker('consumer-worker', workerConfig(topic, groupId, { killAtApplied: 400 }));
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await count('SELECT count(*) AS n FROM effects')).toBe(399);
    const committedAtKill = await committedTotal(groupId, topic);
    // Some applied events are not committed in Kafka: they will be delivered again.
    expect(committedAtKill).toBeLessThan(399);

    const second = startWorker('consumer-worker', workerConfig(topic, groupId));
    await second.waitForLine((l) => l.includes('"ready"'));
    await waitFor('all events applied', async () => (await count('SELECT n FROM counter')) >= total || undefined);
    second.proc.kill('SIGTERM');
    const stopped = jsonLines([await second.waitForLine((l) => l.includes('"stopped"'))])[0];
    await second.exited;

    await expectExactlyOnce(total);
    // The redelivered, already-applied events were skipped by the inbox, one by one.
    expect(stopped.duplicates).toBe(399 - committedAtKill);
    expect(stopped.processed).toBe(total - 399);
    expect(await committedTotal(groupId, topic)).toBe(total);
  });

  it('applies every event exactly once when killed from outside at arbitrary moments', async () => {
    await resetEffects();
    const topic = 'crash2.events.v1';
    const total = 1_200;
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    await publish(topic, total);
    const groupId = `crash2-${uniqueSuffix()}`;
    const config = workerConfig(topic, groupId, { handlerDelayMs: 2 });

    for (const killAt of [250, 700]) {
      const w = startWorker('consumer-worker', config);
      await waitFor(`${killAt} applied`, async () => (await count('SELECT n FROM counter')) >= killAt || undefined, 90_000, 20);
      w.proc.kill('SIGKILL');
      expect((await w.exited).signal).toBe('SIGKILL');
    }
    const last = startWorker('consumer-worker', config);
    await waitFor('all events applied', async () => (await count('SELECT n FROM counter')) >= total || undefined, 90_000);
    last.proc.kill('SIGTERM');
    await last.waitForLine((l) => l.includes('"stopped"'));
    await last.exited;

    await expectExactlyOnce(total);
    expect(await count('SELECT count(DISTINCT pid) AS n FROM effects')).toBe(3);
  });
});
