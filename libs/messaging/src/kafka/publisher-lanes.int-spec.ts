import { kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic, testEnvelope } from '../testing/fixtures';
import { createKafka } from './config';
import { decodeEnvelope } from './headers';
import { Partitioners } from 'kafkajs';
import { EventPublisher, laneOf, partitionOf } from './publisher';
import { ensureTopics, TopicNames } from './topics';

/** Several produce requests in flight (one per lane), per-partition order kept: real Kafka. */
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
  it('computes the partition kafkajs would, and serves each partition from one lane', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    const used = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const key = `order-${i}`;
      const p = partitionOf(key, 12);
      expect(p).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      expect(partitionOf(Buffer.from(key), 12)).toBe(p);
      used.add(laneOf(p, 4));
    }
    expect(used.size).toBe(4);
    expect(laneOf(7, 4)).toBe(laneOf(7, 4));
    expect(laneOf(undefined, 4)).toBe(0);
    expect(partitionOf(null, 12)).toBeUndefined();
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
    // Each partition holds its messages in publish order, keys interleaved as published (as with one producer).
    for (let p = 0; p < 6; p++) {
      const inPartition = messages.filter((m) => m.partition === p).map((m) => decodeEnvelope(Buffer.from(m.value ?? '')).data as { orderId: string; n: number });
      const expected = Array.from({ length: perKey }, (_, n) => keys.filter((k) => partitionOf(k, 6) === p).map((k) => ({ orderId: k, n }))).flat();
      expect(inPartition.map((d) => `${d.orderId}-${d.n}`)).toEqual(expected.map((d) => `${d.orderId}-${d.n}`));
    }
    for (const k of keys) {
      const ns = messages.filter((m) => m.key === k).map((m) => (decodeEnvelope(Buffer.from(m.value ?? '')).data as { n: number }).n);
      expect(ns).toEqual(Array.from({ length: perKey }, (_, n) => n));
    }
  });
});
