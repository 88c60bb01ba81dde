import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { runConsumer, type ConsumerHandle } from './run-consumer';

/*
 * Offset commits at most every commitIntervalMs (ADR 0022): a trickle of messages, each its own
 * fetch and batch, used to cost one OffsetCommit request (and a __consumer_offsets record) per
 * batch. Counted on kafkajs' own COMMIT_OFFSETS instrumentation event, one per request sent.
 */

const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;

beforeAll(async () => {
  db = await createTestDatabase('msg_commit_interval');
  pool = new Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'commit-interval-test' });
  admin = kafka.admin();
  await admin.connect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function committedOffset(groupId: string, topic: string): Promise<string> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
  return t.partitions[0].offset;
}

/** 30 messages published one by one, 40 ms apart: each lands in its own fetch. Returns the commit requests sent. */
async function trickle(commitIntervalMs: number): Promise<{ commits: number; handle: ConsumerHandle; groupId: string; topic: string }> {
  const topic = `commit-interval-${commitIntervalMs}-${uniqueSuffix()}`;
  await ensureTopics(admin, [topic], { partitions: 1, prefix });
  const groupId = `commit-interval-${uniqueSuffix()}`;
  let applied = 0;
  const handle = await runConsumer({
    pool,
    groupId,
    topics: [topic],
    topicPrefix: prefix,
    kafka,
    maxWaitTimeInMs: 100,
    commitIntervalMs,
    handler: async () => {
      applied++;
    },
  });
  let commits = 0;
  handle.consumer.on(handle.consumer.events.COMMIT_OFFSETS, () => commits++);
  for (let i = 0; i < 30; i++) {
    await publisher.publish([{ topic, key: 'k', envelope: testEnvelope(`k-${commitIntervalMs}`, i) }]);
    await new Promise((r) => setTimeout(r, 40));
  }
  await waitFor('all 30 applied', async () => applied === 30 || undefined);
  // The timer commits the last offsets although no batch follows.
  await waitFor('committed to the end', async () => ((await committedOffset(groupId, topic)) === '30' ? true : undefined));
  return { commits, handle, groupId, topic };
}

describe('offset commit interval', () => {
  it('commits about once per interval instead of once per batch, and a quiet partition is still committed to the end', async () => {
    const everyBatch = await trickle(0);
    await everyBatch.handle.stop();
    const throttled = await trickle(500);
    await throttled.handle.stop();
    // ~1.2 s of trickle plus the tail: a handful of commits against one per fetched batch.
    expect(everyBatch.commits).toBeGreaterThanOrEqual(15);
    expect(throttled.commits).toBeLessThanOrEqual(6);
    expect(throttled.commits).toBeGreaterThanOrEqual(2);
  });

  it('stop() commits what was processed since the last commit before it leaves the group', async () => {
    const topic = `commit-interval-stop-${uniqueSuffix()}`;
    await ensureTopics(admin, [topic], { partitions: 1, prefix });
    const groupId = `commit-interval-stop-${uniqueSuffix()}`;
    let applied = 0;
    const handle = await runConsumer({
      pool,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      kafka,
      maxWaitTimeInMs: 100,
      commitIntervalMs: 60_000,
      handler: async () => {
        applied++;
      },
    });
    await publisher.publish([{ topic, key: 'a', envelope: testEnvelope('a', 0) }]);
    await waitFor('first applied', async () => applied === 1 || undefined);
    await publisher.publish(Array.from({ length: 5 }, (_, i) => ({ topic, key: 'a', envelope: testEnvelope('a', i + 1) })));
    await waitFor('all applied', async () => applied === 6 || undefined);
    // The first batch was committed at once; the second waits for an interval of a minute...
    expect(await committedOffset(groupId, topic)).toBe('1');
    await handle.stop();
    // ...and goes with the stop.
    expect(await committedOffset(groupId, topic)).toBe('6');
  });
});
