import type { EventEnvelope } from '@flowline/contracts';
import { uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { readHeaders } from '../kafka/headers';

/** An envelope for tests (`n` makes positions and ids distinct). */
export function testEnvelope(orderId: string, n: number, data: Record<string, unknown> = {}): EventEnvelope {
  return {
    eventId: `${orderId}-${n}`,
    type: 'TestHappened',
    schemaVersion: 1,
    streamId: `order-${orderId}`,
    streamPosition: n,
    occurredAt: new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString(),
    correlationId: `corr-${orderId}`,
    causationId: null,
    data: { orderId, n, ...data },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface ReadMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads a whole topic (every partition up to its current end) with a throwaway consumer group.
 * Returns the messages in partition then offset order.
 */
export async function readWholeTopic(kafka: Kafka, admin: Admin, topic: string, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  const done = new Set([...ends].filter(([, high]) => high === 0).map(([p]) => p));
  const out: ReadMessage[] = [];
  if (done.size === ends.size) return out;
  const consumer = kafka.consumer({ groupId: `reader-${uniqueSuffix()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages as KafkaMessage[]) {
          if (Number(m.offset) >= ends.get(batch.partition)!) continue;
          out.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? null, headers: readHeaders(m.headers) });
          if (Number(m.offset) === ends.get(batch.partition)! - 1) done.add(batch.partition);
        }
        if (done.size === ends.size) finish();
      },
    });
    await Promise.race([
      finished,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`read ${out.length} messages of ${topic}; partitions done ${done.size}/${ends.size}`)), timeoutMs)),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}
