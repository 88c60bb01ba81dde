import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Headers } from '../kafka/headers';
import type { EventPublisher } from '../kafka/publisher';
import { componentReadiness } from '../readiness';
import { classifyFailure, isInfrastructureError } from './errors';
import { runBatchConsumer, type BatchItem, type ItemResult, type RunBatchConsumerOptions } from './run-consumer';

// No broker: a fake kafkajs client hands the loop its eachBatch, which the test calls the way
// kafkajs would; dead letters are captured by a fake publisher.
function envelopeAt(offset: number, key = `order-${offset}`): KafkaMessage {
  const envelope = {
    eventId: `evt-${offset}`,
    type: 'ReserveStock',
    schemaVersion: 1,
    streamId: key,
    streamPosition: 0,
    occurredAt: '2026-11-25T00:00:00.000Z',
    correlationId: `c-${offset}`,
    causationId: `c-${offset}`,
    data: {},
  };
  return { key: Buffer.from(key), value: Buffer.from(JSON.stringify(envelope)), offset: String(offset), timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
}

function raw(offset: number, value: string): KafkaMessage {
  return { key: null, value: Buffer.from(value), offset: String(offset), timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
let groups = 0;

async function loop(processBatch: (items: BatchItem[]) => Promise<ItemResult[]>, over: Partial<RunBatchConsumerOptions> = {}) {
  let eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  const fakeConsumer = {
    events: { CRASH: 'consumer.crash' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (o: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => {
      eachBatch = o.eachBatch;
    },
    disconnect: async () => undefined,
  };
  const kafka = { consumer: () => fakeConsumer } as unknown as Kafka;
  const sent: { offset: string; attempts: string; error: string }[] = [];
  const publisher = {
    publishRaw: async (ms: { headers: Record<string, string | Buffer> }[]) => {
      for (const m of ms) sent.push({ offset: String(m.headers[Headers.dlqOffset]), attempts: String(m.headers[Headers.dlqAttempts]), error: String(m.headers[Headers.dlqError]) });
    },
  } as unknown as EventPublisher;
  const groupId = `g${++groups}`;
  const handle = await runBatchConsumer({
    kafka,
    groupId,
    topics: ['inventory.commands.v1'],
    topicPrefix: '',
    processBatch,
    deadLetterPublisher: publisher,
    backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
    infrastructureBackoff: { initialMs: 1, maxMs: 5, jitter: 0 },
    logger: quiet,
    ...over,
  });
  const resolved: string[] = [];
  const deliver = (messages: KafkaMessage[], partition = 0) => {
    if (!eachBatch) throw new Error('the loop did not start its consumer');
    return eachBatch({
      batch: { topic: 'inventory.commands.v1', partition, messages, highWatermark: String(Number(messages[messages.length - 1].offset) + 1) },
      resolveOffset: (o: string) => resolved.push(`${partition}:${o}`),
      heartbeat: async () => undefined,
      commitOffsetsIfNecessary: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  };
  return { handle, sent, resolved, deliver, component: `consumer ${groupId}` };
}

const done = (items: BatchItem[]) => items.map((): ItemResult => ({ kind: 'done' }));

describe('error classification', () => {
  it('infrastructure: connection loss, admin shutdown, too many connections, serialization, deadlock, broker away', () => {
    const pg = (code: string) => Object.assign(new Error('x'), { code });
    for (const e of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      pg('57P01'),
      pg('53300'),
      pg('40001'),
      pg('40P01'),
      pg('08006'),
      Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' }),
      Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' }),
      Object.assign(new Error('retriable'), { name: 'KafkaJSProtocolError', retriable: true }),
      // TypeORM wraps the driver error; kafkajs wraps the last one.
      Object.assign(new Error('query failed'), { name: 'QueryFailedError', driverError: pg('57P01') }),
      new Error('outer', { cause: pg('40P01') }),
    ])
      expect(classifyFailure(e), String(e)).toBe('infrastructure');
  });

  it('content: decode errors, domain refusals, data errors, unknown errors', () => {
    for (const e of [
      Object.assign(new Error('bad json'), { name: 'EnvelopeDecodeError' }),
      Object.assign(new Error('no open reservation'), { name: 'DomainError', code: 'RESERVATION_NOT_OPEN' }),
      Object.assign(new Error('invalid input syntax'), { code: '22P02' }),
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      new TypeError('x is undefined'),
      'a string',
      null,
    ])
      expect(isInfrastructureError(e), String(e)).toBe(false);
  });
});

describe('the consumer loop', () => {
  it('dead-letters an undecodable message after one try and applies the rest', async () => {
    let transactions = 0;
    const { sent, resolved, deliver } = await loop(async (items) => {
      transactions++;
      return done(items);
    });
    await deliver([raw(0, 'not json'), envelopeAt(1)]);
    expect(sent.map(({ offset, attempts }) => ({ offset, attempts }))).toEqual([{ offset: '0', attempts: '1' }]);
    expect(transactions).toBe(1);
    expect(resolved).toEqual(['0:0', '0:1']);
  });

  it('reports one attempt for an item its transaction dead-lettered (malformed command)', async () => {
    const { sent, deliver } = await loop(async (items) => items.map((i): ItemResult => (i.offset === '1' ? { kind: 'dead-letter', error: new Error('malformed') } : { kind: 'done' })));
    await deliver([envelopeAt(0), envelopeAt(1)]);
    expect(sent.map(({ offset, attempts }) => ({ offset, attempts }))).toEqual([{ offset: '1', attempts: '1' }]);
  });

  it('splits a batch failing on content: each item alone, only the poison is dead-lettered, counting every transaction it took part in', async () => {
    let calls = 0;
    const applied: string[] = [];
    const { sent, deliver } = await loop(
      async (items) => {
        calls++;
        if (items.some((i) => i.offset === '1')) throw new Error('poison');
        applied.push(...items.map((i) => i.offset));
        return done(items);
      },
      { maxRetries: 2 },
    );
    await deliver([envelopeAt(0), envelopeAt(1), envelopeAt(2)]);
    // 1 try as a batch of three, then 1 alone for offsets 0 and 2 and 3 alone for offset 1.
    expect(calls).toBe(1 + 1 + 3 + 1);
    expect(applied).toEqual(['0', '2']);
    expect(sent.map(({ offset, attempts }) => ({ offset, attempts }))).toEqual([{ offset: '1', attempts: '4' }]);
  });

  it('retries an infrastructure failure without limit (far past maxRetries), never dead-letters it, and is not ready meanwhile', async () => {
    let calls = 0;
    const states: boolean[] = [];
    const ctx = await loop(
      async (items) => {
        calls++;
        states.push(componentReadiness()[ctx.component]?.ready ?? true);
        if (calls <= 25) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        return done(items);
      },
      { maxRetries: 1 },
    );
    await ctx.deliver([envelopeAt(0), envelopeAt(1)]);
    expect(calls).toBe(26);
    expect(ctx.sent).toEqual([]);
    expect(ctx.resolved).toEqual(['0:1']);
    expect(states.slice(1)).toContain(false);
    expect(componentReadiness()[ctx.component]?.ready).toBe(true);
    expect(ctx.handle.stats.infrastructureRetries).toBe(25);
    await ctx.handle.stop();
  });

  it('stop() during an outage leaves the batch unresolved (redelivered), nothing dead-lettered', async () => {
    const ctx = await loop(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    const delivering = ctx.deliver([envelopeAt(0)]);
    await new Promise((r) => setTimeout(r, 30));
    await ctx.handle.stop();
    await delivering;
    expect(ctx.resolved).toEqual([]);
    expect(ctx.sent).toEqual([]);
  });

  it('group commit: batches of partitions handled at once share one transaction', async () => {
    const sizes: number[] = [];
    const { deliver, resolved } = await loop(
      async (items) => {
        sizes.push(items.length);
        return done(items);
      },
      { groupCommit: { lingerMs: 20 }, maxMessages: 100 },
    );
    await Promise.all([deliver([envelopeAt(0), envelopeAt(1)], 0), deliver([envelopeAt(0, 'b'), envelopeAt(1, 'b')], 1), deliver([envelopeAt(5, 'c')], 2)]);
    expect(sizes).toEqual([5]);
    expect(resolved.sort()).toEqual(['0:1', '1:1', '2:5']);
  });
});
