import { Headers } from '@flowline/messaging';
import { Kafka, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { GroupCommitConsumer, type BatchItem, type ItemResult } from './group-commit-consumer';

// No broker is contacted: the consumer is driven through the batch handler kafkajs would call,
// and the dead-letter publisher's send is captured instead of going to Kafka.
function envelopeAt(offset: number): KafkaMessage {
  const envelope = {
    eventId: `evt-${offset}`,
    type: 'ReserveStock',
    schemaVersion: 1,
    streamId: `order-${offset}`,
    streamPosition: 0,
    occurredAt: '2026-11-25T00:00:00.000Z',
    correlationId: `c-${offset}`,
    causationId: `c-${offset}`,
    data: {},
  };
  return { key: Buffer.from(`order-${offset}`), value: Buffer.from(JSON.stringify(envelope)), offset: String(offset), timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
}

function raw(offset: number, value: string): KafkaMessage {
  return { key: null, value: Buffer.from(value), offset: String(offset), timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
}

async function run(messages: KafkaMessage[], processBatch: (items: BatchItem[]) => Promise<ItemResult[]>, maxRetries = 2) {
  const consumer = new GroupCommitConsumer({
    kafka: new Kafka({ brokers: ['127.0.0.1:1'], logCreator: () => () => undefined }),
    groupId: 'g',
    topics: ['inventory.commands.v1'],
    processBatch,
    maxRetries,
    lingerMs: 0,
    backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const sent: { offset: string; attempts: string }[] = [];
  const dlq = (consumer as unknown as { dlq: { publishRaw(m: { headers: Record<string, string | Buffer> }[]): Promise<void> } }).dlq;
  dlq.publishRaw = async (ms) => {
    for (const m of ms) sent.push({ offset: String(m.headers[Headers.dlqOffset]), attempts: String(m.headers[Headers.dlqAttempts]) });
  };
  const payload = {
    batch: { topic: 'inventory.commands.v1', partition: 0, messages },
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  await (consumer as unknown as { eachBatch(p: EachBatchPayload): Promise<void> }).eachBatch(payload);
  return sent;
}

describe('GroupCommitConsumer dead letters', () => {
  it('reports one attempt for a message that could not be decoded (it is never retried)', async () => {
    let transactions = 0;
    const sent = await run([raw(0, 'not json'), envelopeAt(1)], async (items) => {
      transactions++;
      return items.map((): ItemResult => ({ kind: 'done' }));
    });
    expect(sent).toEqual([{ offset: '0', attempts: '1' }]);
    expect(transactions).toBe(1);
  });

  it('reports one attempt for an item its transaction dead-lettered (malformed command)', async () => {
    const sent = await run([envelopeAt(0), envelopeAt(1)], async (items) =>
      items.map((i): ItemResult => (i.offset === '1' ? { kind: 'dead-letter', error: new Error('malformed') } : { kind: 'done' })),
    );
    expect(sent).toEqual([{ offset: '1', attempts: '1' }]);
  });

  it('counts every transaction a failing message took part in: the batch tries, then its own', async () => {
    let calls = 0;
    const sent = await run(
      [envelopeAt(0), envelopeAt(1)],
      async (items) => {
        calls++;
        if (items.some((i) => i.offset === '1')) throw new Error('poison');
        return items.map((): ItemResult => ({ kind: 'done' }));
      },
      2,
    );
    // 3 tries as a batch of two, then 1 alone for offset 0 and 3 alone for offset 1.
    expect(calls).toBe(3 + 1 + 3);
    expect(sent).toEqual([{ offset: '1', attempts: '6' }]);
  });

  it('a single failing message dead-letters after maxRetries + 1 tries', async () => {
    let calls = 0;
    const sent = await run([envelopeAt(0)], async () => {
      calls++;
      throw new Error('poison');
    }, 1);
    expect(calls).toBe(2);
    expect(sent).toEqual([{ offset: '0', attempts: '2' }]);
  });
});
