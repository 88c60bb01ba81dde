import { uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../kafka/topics';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { consumerTestBed, type ConsumerTestBed } from '../testing/test-bed';
import { runConsumer } from './run-consumer';

/*
 * Offset commits at most every commitIntervalMs (ADR 0022): a trickle of messages, each its own
 * fetch and batch, used to cost one OffsetCommit request (and a __consumer_offsets record) per
 * batch. Counted on kafkajs' own COMMIT_OFFSETS instrumentation event, one per request sent.
 */

let bed: ConsumerTestBed;
beforeAll(async () => {
  bed = await consumerTestBed('msg_commit_interval');
});
afterAll(async () => {
  await bed?.close();
});

async function committedOffset(groupId: string, topic: string): Promise<string> {
  const [t] = await bed.admin.fetchOffsets({ groupId, topics: [bed.names.physical(topic)] });
  return t.partitions[0].offset;
}

/** A one-partition topic and a consumer on it that counts what it applied and the commit requests it sent. */
async function counted(label: string, commitIntervalMs: number) {
  const topic = `commit-interval-${label}-${uniqueSuffix()}`;
  await ensureTopics(bed.admin, [topic], { partitions: 1, prefix: bed.prefix });
  const groupId = `commit-interval-${label}-${uniqueSuffix()}`;
  const seen = { applied: 0, commits: 0 };
  const handle = await runConsumer({
    pool: bed.pool,
    groupId,
    topics: [topic],
    topicPrefix: bed.prefix,
    kafka: bed.kafka,
    maxWaitTimeInMs: 100,
    commitIntervalMs,
    handler: async () => {
      seen.applied++;
    },
  });
  handle.consumer.on(handle.consumer.events.COMMIT_OFFSETS, () => seen.commits++);
  const publish = (key: string, from: number, n: number) =>
    bed.publisher.publish(Array.from({ length: n }, (_, i) => ({ topic, key, envelope: testEnvelope(`${key}-${label}`, from + i) })));
  return { topic, groupId, seen, handle, publish };
}

/** 30 messages published one by one, 40 ms apart (each lands in its own fetch); the commit requests sent. */
async function trickle(commitIntervalMs: number): Promise<number> {
  const c = await counted(String(commitIntervalMs), commitIntervalMs);
  for (let i = 0; i < 30; i++) {
    await c.publish('k', i, 1);
    await new Promise((r) => setTimeout(r, 40));
  }
  await waitFor('all 30 applied', async () => c.seen.applied === 30 || undefined);
  // The timer commits the last offsets although no batch follows.
  await waitFor('committed to the end', async () => ((await committedOffset(c.groupId, c.topic)) === '30' ? true : undefined));
  await c.handle.stop();
  return c.seen.commits;
}

describe('offset commit interval', () => {
  it('commits about once per interval instead of once per batch, and a quiet partition is still committed to the end', async () => {
    const everyBatch = await trickle(0);
    const throttled = await trickle(500);
    // ~1.2 s of trickle plus the tail: a handful of commits against one per fetched batch.
    expect(everyBatch).toBeGreaterThanOrEqual(15);
    expect(throttled).toBeLessThanOrEqual(6);
    expect(throttled).toBeGreaterThanOrEqual(2);
  });

  it('stop() commits what was processed since the last commit before it leaves the group', async () => {
    const c = await counted('stop', 60_000);
    await c.publish('a', 0, 1);
    await waitFor('first applied', async () => c.seen.applied === 1 || undefined);
    await c.publish('a', 1, 5);
    await waitFor('all applied', async () => c.seen.applied === 6 || undefined);
    // The first batch was committed at once; the second waits for an interval of a minute...
    expect(await committedOffset(c.groupId, c.topic)).toBe('1');
    await c.handle.stop();
    // ...and goes with the stop.
    expect(await committedOffset(c.groupId, c.topic)).toBe('6');
  });
});
