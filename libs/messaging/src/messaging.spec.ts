import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff';
import { consumerSessionTimeoutFromEnv } from './consumer/run-consumer';
import { messagingConfigFromEnv } from './kafka/config';
import { deadLetterHeaders, decodeEnvelope, encodeEnvelope, EnvelopeDecodeError, envelopeHeaders, readHeaders } from './kafka/headers';
import { patchKafkajsRequestQueue } from './kafka/kafkajs-patch';
import { TopicNames } from './kafka/topics';
import { contextFromTraceparent, currentTraceparent } from './kafka/tracing';
import { messagingLoggerOf } from './logger';
import { quoteTable } from './sql';

const envelope = {
  eventId: 'e1',
  type: 'OrderPaid',
  schemaVersion: 2,
  streamId: 'order-1',
  streamPosition: 3,
  occurredAt: '2025-01-01T00:00:00.000Z',
  correlationId: 'c1',
  causationId: null,
  data: { orderId: '1', amount: 1999, currency: 'CNY' },
};

describe('messaging config', () => {
  it('defaults to the local broker, 12 partitions and no prefix', () => {
    expect(messagingConfigFromEnv({})).toEqual({ brokers: ['127.0.0.1:9092'], clientId: 'flowline', partitions: 12, topicPrefix: '', replicationFactor: 1 });
  });

  it('reads brokers, client id, partitions and prefix from the environment', () => {
    const c = messagingConfigFromEnv({ KAFKA_BROKERS: 'a:1, b:2', KAFKA_CLIENT_ID: 'orders', KAFKA_TOPIC_PARTITIONS: '6', KAFKA_TOPIC_PREFIX: 'dev.' });
    expect(c).toMatchObject({ brokers: ['a:1', 'b:2'], clientId: 'orders', partitions: 6, topicPrefix: 'dev.' });
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => messagingConfigFromEnv({ KAFKA_TOPIC_PARTITIONS: '0' })).toThrow(/KAFKA_TOPIC_PARTITIONS/);
    expect(() => messagingConfigFromEnv({ KAFKA_TOPIC_PARTITIONS: 'x' })).toThrow(/KAFKA_TOPIC_PARTITIONS/);
  });
});

describe('topic names', () => {
  it('prefixes logical names and their dead-letter topics, and strips the prefix back', () => {
    const n = new TopicNames('t1.');
    expect(n.physical('orders.events.v1')).toBe('t1.orders.events.v1');
    expect(n.deadLetter('orders.events.v1')).toBe('t1.orders.events.v1.dlq');
    expect(n.logical('t1.orders.events.v1')).toBe('orders.events.v1');
  });
});

describe('envelope on the wire', () => {
  it('round-trips the envelope as JSON and mirrors its metadata in headers', () => {
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    expect(envelopeHeaders(envelope, { traceparent: 'tp', extra: undefined })).toEqual({
      eventId: 'e1',
      type: 'OrderPaid',
      schemaVersion: '2',
      correlationId: 'c1',
      traceparent: 'tp',
    });
    expect(envelopeHeaders({ ...envelope, causationId: 'cmd-1' }).causationId).toBe('cmd-1');
  });

  it('rejects values that are not envelopes', () => {
    expect(() => decodeEnvelope(null)).toThrow(EnvelopeDecodeError);
    expect(() => decodeEnvelope(Buffer.from('{oops'))).toThrow(/not JSON/);
    expect(() => decodeEnvelope(Buffer.from(JSON.stringify({ type: 'X', schemaVersion: 1 })))).toThrow(/eventId/);
  });

  it('reads Buffer, string and repeated headers as strings', () => {
    expect(readHeaders({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('first'), Buffer.from('second')], d: undefined })).toEqual({ a: 'x', b: 'y', c: 'first' });
  });
});

describe('trace context', () => {
  it('continues a stored traceparent and writes it back unchanged', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(currentTraceparent(contextFromTraceparent(tp))).toBe(tp);
    expect(currentTraceparent(contextFromTraceparent(undefined))).toBeUndefined();
    expect(currentTraceparent(contextFromTraceparent('garbage'))).toBeUndefined();
  });
});

describe('backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const o = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('randomises only the jitter share of the delay', () => {
    const o = { initialMs: 1_000, maxMs: 10_000, jitter: 0.2 };
    expect(backoffDelay(0, o, () => 0)).toBe(800);
    expect(backoffDelay(0, o, () => 1)).toBe(1_000);
  });

  it('sleep returns early when aborted', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 10);
    expect(await sleep(5_000, ac.signal)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('table names from configuration', () => {
  it('quotes plain and schema-qualified names and refuses anything else', () => {
    expect(quoteTable('relay_checkpoints')).toBe('"relay_checkpoints"');
    expect(quoteTable('orders.messaging_inbox')).toBe('"orders"."messaging_inbox"');
    expect(() => quoteTable('x; DROP TABLE y')).toThrow(/invalid table name/);
  });
});

describe('kafkajs request queue patch', () => {
  it('arms no timer when nothing is pending and the broker does not throttle', () => {
    expect(patchKafkajsRequestQueue()).toBe(true);
    const q = Object.assign(Object.create(RequestQueue.prototype), { pending: [], throttledUntil: -1, throttleCheckTimeoutId: null });
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules a check while requests are pending', () => {
    const q = Object.assign(Object.create(RequestQueue.prototype), { pending: [{}], throttledUntil: -1, throttleCheckTimeoutId: null, checkPendingRequests() {} });
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(q.throttleCheckTimeoutId);
  });
});

describe('messagingLoggerOf', () => {
  it('writes each level through the Nest-style logger with the meta as JSON on the line', () => {
    const lines: string[] = [];
    const logger = messagingLoggerOf({ log: (m) => lines.push(`log ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) });
    logger.info('started');
    logger.warn('batch failed', { attempt: 2 });
    logger.error('crashed', { error: 'boom' });
    expect(lines).toEqual(['log started', 'warn batch failed {"attempt":2}', 'error crashed {"error":"boom"}']);
  });
});

describe('deadLetterHeaders', () => {
  it("keeps the message's headers (first value) and adds origin, attempts, group and the cut error", () => {
    const h = deadLetterHeaders(
      { offset: '41', headers: { eventId: Buffer.from('e1'), multi: [Buffer.from('a'), Buffer.from('b')] } },
      { physicalTopic: 't.orders.events.v1', partition: 3, attempts: 5, group: 'g1', error: new Error('x'.repeat(5_000)), failedAt: '2026-01-01T00:00:00.000Z' },
    );
    expect(String(h.eventId)).toBe('e1');
    expect(String(h.multi)).toBe('a');
    expect(h).toMatchObject({ 'dlq.originalTopic': 't.orders.events.v1', 'dlq.originalPartition': '3', 'dlq.originalOffset': '41', 'dlq.attempts': '5', 'dlq.consumerGroup': 'g1', 'dlq.failedAt': '2026-01-01T00:00:00.000Z' });
    expect(h['dlq.error']).toHaveLength(4_000);
  });
});

describe('consumer session timeout from the environment', () => {
  it('is 10 s unless KAFKA_SESSION_TIMEOUT_MS names at least the broker minimum of 6 s', () => {
    expect(consumerSessionTimeoutFromEnv({})).toBe(10_000);
    expect(consumerSessionTimeoutFromEnv({ KAFKA_SESSION_TIMEOUT_MS: '30000' })).toBe(30_000);
    expect(consumerSessionTimeoutFromEnv({ KAFKA_SESSION_TIMEOUT_MS: '1000' })).toBe(10_000);
    expect(consumerSessionTimeoutFromEnv({ KAFKA_SESSION_TIMEOUT_MS: 'soon' })).toBe(10_000);
  });
});
