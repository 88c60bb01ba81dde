import { kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic, testEnvelope } from '../testing/fixtures';
import { createKafka } from './config';
import { decodeEnvelope } from './headers';
import { EventPublisher, laneOf } from './publisher';
import { ensureTopics, TopicNames } from './topics';

/** Several produce requests in flight (one per lane), per-key order kept: real Kafka. */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'lanes.events.v1';
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'publisher-lanes-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 6, prefix, deadLetters: false });
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
});

describe('EventPublisher lanes', () => {
  it('spreads keys over lanes, one key always on one lane', () => {
    const used = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const lane = laneOf(`order-${i}`, 4);
      expect(lane).toBe(laneOf(`order-${i}`, 4));
      expect(lane).toBe(laneOf(Buffer.from(`order-${i}`), 4));
      used.add(lane);
    }
    expect(used.size).toBe(4);
    expect(laneOf(null, 4)).toBe(0);
    expect(laneOf('x', 1)).toBe(0);
  });

  it('writes every message once, in publish order per key, with concurrent publishes over four lanes', async () => {
    const publisher = new EventPublisher({ kafka, topicPrefix: prefix, lanes: 4, maxBatchSize: 50 });
    await publisher.connect();
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const perKey = 25;
    try {
      // 25 rounds, each a publish of one event per key; rounds are issued without waiting, so
      // lanes hold several batches while others are in flight.
      const rounds: Promise<void>[] = [];
      for (let n = 0; n < perKey; n++) {
        rounds.push(publisher.publish(keys.map((k) => ({ topic: TOPIC, key: k, envelope: testEnvelope(k, n) }))));
      }
      await Promise.all(rounds);
    } finally {
      await publisher.disconnect();
    }
    const messages = await readWholeTopic(kafka, admin, names.physical(TOPIC));
    expect(messages).toHaveLength(keys.length * perKey);
    for (const k of keys) {
      const ns = messages.filter((m) => m.key === k).map((m) => (decodeEnvelope(Buffer.from(m.value ?? '')).data as { n: number }).n);
      expect(ns).toEqual(Array.from({ length: perKey }, (_, n) => n));
    }
  });
});
