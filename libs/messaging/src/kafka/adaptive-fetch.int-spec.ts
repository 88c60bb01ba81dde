import { uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatchConsumer, type ConsumerHandle } from '../consumer/run-consumer';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { consumerTestBed, type ConsumerTestBed } from '../testing/test-bed';
import { ensureTopics } from './topics';

/**
 * Adaptive fetch against the real broker: a batching consumer (64 KiB, 50 ms) stops fetching 20
 * times a second once its topic is quiet, and still gets what is published afterwards.
 */
let bed: ConsumerTestBed;
const handles: ConsumerHandle[] = [];
const topic = 'adaptive.events.v1';

beforeAll(async () => {
  bed = await consumerTestBed('msg_adaptive_fetch');
  await ensureTopics(bed.admin, [topic], { partitions: 3, prefix: bed.prefix, deadLetters: false });
});

afterAll(async () => {
  for (const h of handles) await h.stop();
  await bed?.close();
});

/** A batching consumer that records what it got and counts its fetch requests. */
async function batchingConsumer(idleMaxWaitTimeInMs: number) {
  const got: string[] = [];
  const handle = await runBatchConsumer({
    kafka: bed.kafka,
    groupId: `adaptive-${uniqueSuffix()}`,
    topics: [topic],
    topicPrefix: bed.prefix,
    deadLetterPublisher: null,
    minBytes: 64 * 1024,
    maxWaitTimeInMs: 50,
    idleMaxWaitTimeInMs,
    processBatch: async (items) => {
      got.push(...items.map((i) => i.envelope.eventId));
      return items.map(() => ({ kind: 'done' as const }));
    },
  });
  handles.push(handle);
  let fetches = 0;
  handle.consumer.on(handle.consumer.events.FETCH, () => void fetches++);
  return { got, fetches: () => fetches };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('adaptive fetch (real Kafka)', () => {
  it('an idle batching consumer fetches about once a second instead of every 50 ms, and gets what comes after the quiet spell', async () => {
    const adaptive = await batchingConsumer(1_000);
    // Control: the same consumer whose idle wait is its batching wait, i.e. kafkajs without adaptation.
    const fixed = await batchingConsumer(50);
    const run = uniqueSuffix();
    await bed.publisher.publish([0, 1, 2].map((n) => ({ topic, key: `o-${n}`, envelope: testEnvelope(`${run}-a`, n) })));
    await waitFor('both consumers got the first events', () => adaptive.got.length === 3 && fixed.got.length === 3);

    const before = { adaptive: adaptive.fetches(), fixed: fixed.fetches() };
    await sleep(3_000);
    const idle = { adaptive: adaptive.fetches() - before.adaptive, fixed: fixed.fetches() - before.fixed };
    console.log(`fetches in 3 s idle: adaptive ${idle.adaptive}, fixed 50 ms ${idle.fixed}`);
    // 3 s idle: about 3 fetches against about 60 (each empty fetch waits 50 ms); broad bounds for a busy CI machine.
    expect(idle.adaptive).toBeLessThanOrEqual(6);
    expect(idle.fixed).toBeGreaterThanOrEqual(15);

    // After the quiet spell the next events still arrive (the long idle fetch answers at the first byte).
    await bed.publisher.publish([3, 4].map((n) => ({ topic, key: `o-${n}`, envelope: testEnvelope(`${run}-b`, n) })));
    await waitFor('the adaptive consumer got the events published after the quiet spell', () => adaptive.got.length === 5, 10_000);
    expect(adaptive.got.slice(3).sort()).toEqual([`${run}-b-3`, `${run}-b-4`]);
  });
});
