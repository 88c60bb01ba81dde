import type { EventEnvelope } from '@flowline/contracts';
import { kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Partitioners, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from './config';
import { decodeEnvelope, readHeaders } from './headers';
import { EventPublisher } from './publisher';
import { ensureTopics, TopicNames } from './topics';

/*
 * Verifies kafkajs 2.2.4 against the broker it runs on (the pinned 3.9.2 by default; point
 * KAFKA_BROKERS at another broker to check another version, see docs/adr/0002-kafka-broker.md).
 */

const TOPIC = 'verify.events.v1';
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let kafka: Kafka;
let admin: Admin;

function envelope(orderId: string, position: number): EventEnvelope {
  return {
    eventId: `${orderId}-${position}`,
    type: 'OrderNoted',
    schemaVersion: 1,
    streamId: `order-${orderId}`,
    streamPosition: position,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, position)).toISOString(),
    correlationId: `c-${orderId}`,
    causationId: position === 0 ? null : `${orderId}-${position - 1}`,
    data: { orderId, n: position },
  };
}

beforeAll(async () => {
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'verify' });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [names.physical(TOPIC), names.deadLetter(TOPIC)] }).catch(() => undefined);
  await admin.disconnect();
});

describe('kafkajs 2.2.4 against the broker', () => {
  it('creates topics and their dead-letter topics with explicit partitions, idempotently', async () => {
    const first = await ensureTopics(admin, [TOPIC], { partitions: 12, prefix });
    expect(first.created.sort()).toEqual([names.physical(TOPIC), names.deadLetter(TOPIC)].sort());

    const again = await ensureTopics(admin, [TOPIC], { partitions: 12, prefix });
    expect(again.created).toEqual([]);
    expect(again.existing.sort()).toEqual([names.physical(TOPIC), names.deadLetter(TOPIC)].sort());
    expect(again.mismatched).toEqual([]);

    const meta = await admin.fetchTopicMetadata({ topics: [names.physical(TOPIC), names.deadLetter(TOPIC)] });
    for (const t of meta.topics) expect(t.partitions).toHaveLength(12);

    // A different request for an existing topic is reported, never applied (it would move keys).
    const other = await ensureTopics(admin, [TOPIC], { partitions: 6, prefix, deadLetters: false });
    expect(other.mismatched).toEqual([{ topic: names.physical(TOPIC), partitions: 12, expected: 6 }]);
  });

  it('produces idempotently, keeps per-key order, and commits offsets a group reads back', async () => {
    const orders = Array.from({ length: 10 }, (_, i) => `o${i}-${uniqueSuffix()}`);
    const perOrder = 20;
    const publisher = new EventPublisher({ kafka, topicPrefix: prefix });
    await publisher.connect();
    // Concurrent publishes of one order would race each other; publish each order's events in order.
    await Promise.all(
      orders.map(async (orderId) => {
        for (let p = 0; p < perOrder; p++) {
          await publisher.publish([{ topic: TOPIC, key: orderId, envelope: envelope(orderId, p), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }]);
        }
      }),
    );
    await publisher.disconnect();

    const total = orders.length * perOrder;
    const groupId = `verify-${uniqueSuffix()}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    const received: { partition: number; message: KafkaMessage }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [names.physical(TOPIC)], fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, message });
        await consumer.commitOffsets([{ topic: names.physical(TOPIC), partition, offset: String(Number(message.offset) + 1) }]);
        if (received.length === total) resolveDone();
      },
    });
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${received.length}/${total} received`)), 60_000))]);
    await consumer.disconnect();

    // Every message once; one partition per key (Java-compatible murmur2); order kept per key.
    expect(new Set(received.map((r) => readHeaders(r.message.headers).eventId)).size).toBe(total);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = (await admin.fetchTopicMetadata({ topics: [names.physical(TOPIC)] })).topics[0].partitions;
    for (const orderId of orders) {
      const mine = received.filter((r) => r.message.key?.toString() === orderId);
      expect(mine).toHaveLength(perOrder);
      const expectedPartition = partitioner({ topic: names.physical(TOPIC), partitionMetadata, message: { key: orderId, value: null } });
      expect(new Set(mine.map((r) => r.partition))).toEqual(new Set([expectedPartition]));
      expect(mine.map((r) => decodeEnvelope(r.message.value).streamPosition)).toEqual(Array.from({ length: perOrder }, (_, i) => i));
    }

    // Headers carry the envelope metadata and the trace.
    const third = received.find((r) => decodeEnvelope(r.message.value).streamPosition === 3)!;
    const h = readHeaders(third.message.headers);
    // Flowline's own headers plus the CloudEvents 1.0 Kafka binding (ADR 0009 section 6).
    expect(Object.keys(h).sort()).toEqual(['causationId', 'ce_id', 'ce_source', 'ce_specversion', 'ce_subject', 'ce_time', 'ce_type', 'content-type', 'correlationId', 'eventId', 'schemaVersion', 'traceparent', 'type']);
    const env3 = decodeEnvelope(third.message.value);
    // OrderNoted is no registered contract, so no context: type flowline.<Type>.v<N>, source /flowline.
    expect(h).toMatchObject({ ce_id: env3.eventId, ce_specversion: '1.0', ce_type: 'flowline.OrderNoted.v1', ce_source: '/flowline', ce_subject: env3.streamId, ce_time: env3.occurredAt, 'content-type': 'application/json' });
    expect(h.causationId).toBe(decodeEnvelope(third.message.value).causationId);
    expect(h.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(h.type).toBe('OrderNoted');
    expect(h.schemaVersion).toBe('1');

    // Idempotent producer: record batches carry a producer id and per-partition sequences from 0.
    const contexts = received.map((r) => (r.message as KafkaMessage & { batchContext?: { producerId: string; firstSequence: number } }).batchContext);
    expect(contexts.every((c) => c && Number(c.producerId) >= 0)).toBe(true);
    const byPartition = new Map<number, number[]>();
    for (const r of received) {
      const seq = (r.message as KafkaMessage & { batchContext: { firstSequence: number } }).batchContext.firstSequence;
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), seq]);
    }
    for (const seqs of byPartition.values()) expect(Math.min(...seqs)).toBe(0);

    // Committed offsets read back equal each partition's end.
    const committed = await admin.fetchOffsets({ groupId, topics: [names.physical(TOPIC)] });
    const ends = await admin.fetchTopicOffsets(names.physical(TOPIC));
    const endByPartition = new Map(ends.map((e) => [e.partition, e.high]));
    for (const p of committed[0].partitions) expect(p.offset).toBe(endByPartition.get(p.partition) === '0' ? '-1' : endByPartition.get(p.partition));
    const groups = await admin.describeGroups([groupId]);
    expect(groups.groups[0].members).toHaveLength(0);
  });
});
