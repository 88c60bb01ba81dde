import type { EventEnvelope } from '@flowline/contracts';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { errorMessage } from '../logger';

/** Kafka header names Flowline writes on every message. */
export const Headers = {
  eventId: 'eventId',
  type: 'type',
  schemaVersion: 'schemaVersion',
  correlationId: 'correlationId',
  causationId: 'causationId',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** Set on dead letters. */
  dlqError: 'dlq.error',
  dlqTopic: 'dlq.originalTopic',
  dlqPartition: 'dlq.originalPartition',
  dlqOffset: 'dlq.originalOffset',
  dlqAttempts: 'dlq.attempts',
  dlqGroup: 'dlq.consumerGroup',
  dlqFailedAt: 'dlq.failedAt',
} as const;

/** Headers derived from an envelope (causationId omitted when null: Kafka headers are strings). */
export function envelopeHeaders(envelope: EventEnvelope, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const h: Record<string, string> = {
    [Headers.eventId]: envelope.eventId,
    [Headers.type]: envelope.type,
    [Headers.schemaVersion]: String(envelope.schemaVersion),
    [Headers.correlationId]: envelope.correlationId,
  };
  if (envelope.causationId != null) h[Headers.causationId] = envelope.causationId;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) h[k] = v;
  return h;
}

/** Reads kafkajs headers (Buffer | string | array) as plain strings; the first value wins. */
export function readHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined || first === null) continue;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

export class EnvelopeDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeDecodeError';
  }
}

/** Parses a message value into an envelope, checking the fields consumers rely on. */
export function decodeEnvelope(value: Buffer | null): EventEnvelope {
  if (!value || value.length === 0) throw new EnvelopeDecodeError('empty message value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (e) {
    throw new EnvelopeDecodeError(`message value is not JSON: ${(e as Error).message}`);
  }
  const env = parsed as Partial<EventEnvelope>;
  if (typeof env !== 'object' || env === null) throw new EnvelopeDecodeError('message value is not an object');
  if (typeof env.eventId !== 'string' || env.eventId === '') throw new EnvelopeDecodeError('envelope has no eventId');
  if (typeof env.type !== 'string' || env.type === '') throw new EnvelopeDecodeError('envelope has no type');
  if (typeof env.schemaVersion !== 'number') throw new EnvelopeDecodeError('envelope has no schemaVersion');
  return env as EventEnvelope;
}

export function encodeEnvelope(envelope: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/**
 * Headers of a dead letter: the message's own headers (first value of each) plus where it came
 * from, how often it was tried, by which group, and the error (cut to 4,000 characters).
 */
export function deadLetterHeaders(
  message: Pick<KafkaMessage, 'headers' | 'offset'>,
  origin: { physicalTopic: string; partition: number; attempts: number; group: string; error: unknown; failedAt?: string },
): Record<string, string | Buffer> {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) headers[k] = first;
  }
  return Object.assign(headers, {
    [Headers.dlqError]: errorMessage(origin.error).slice(0, 4_000),
    [Headers.dlqTopic]: origin.physicalTopic,
    [Headers.dlqPartition]: String(origin.partition),
    [Headers.dlqOffset]: message.offset,
    [Headers.dlqAttempts]: String(origin.attempts),
    [Headers.dlqGroup]: origin.group,
    [Headers.dlqFailedAt]: origin.failedAt ?? new Date().toISOString(),
  });
}
