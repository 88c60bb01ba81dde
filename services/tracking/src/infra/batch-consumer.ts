import {
  backoffDelay,
  consumerMetrics,
  contextFromHeaders,
  deadLetterHeaders,
  decodeEnvelope,
  errorMessage,
  messagingTracer,
  readHeaders,
  sleep,
  stderrLogger,
  type BackoffOptions,
  type EventPublisher,
  type MessagingLogger,
  type SqlQueryable,
  type TopicNames,
  type TransactionRunner,
} from '@flowline/messaging';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { asTrackedEvent } from '../projections/tracked-event';
import type { PositionedEvent } from './projection-store';

export interface BatchConsumerOptions<Tx extends SqlQueryable> {
  kafka: Kafka;
  groupId: string;
  /** Logical topics. */
  topics: string[];
  names: TopicNames;
  transactions: TransactionRunner<Tx>;
  /** Applies a chunk of one partition's messages, in offset order, inside `tx`; returns how many were new. */
  apply: (tx: Tx, items: PositionedEvent[]) => Promise<{ applied: number; duplicates: number }>;
  /** Partitions handled in parallel (default 4). */
  concurrency?: number;
  /** Most messages per transaction (default 1000). */
  maxChunk?: number;
  fromBeginning?: boolean;
  /** Retries of a failed transaction before the chunk is split to find the poison message (default 4). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Where a message that keeps failing goes (`<topic>.dlq`); null: skip it (rebuilds, which report a count). */
  deadLetters: EventPublisher | null;
  /** While true, batches are left unapplied and unresolved (a rebuild's swap freezes its replay). */
  paused?: () => boolean;
  /** Called after each committed chunk with the last offset it covered. */
  onCommitted?: (topic: string, partition: number, lastOffset: string, highWatermark: string) => void;
  logger?: MessagingLogger;
}

export interface BatchConsumerHandle {
  readonly consumer: Consumer;
  readonly stats: { applied: number; duplicates: number; undecodable: number; deadLettered: number; retries: number };
  /** Finishes the chunk in hand, commits resolved offsets and leaves the group. */
  stop(): Promise<void>;
}

/**
 * A consumer group that projects each fetched partition batch in a few large transactions instead
 * of one per message. The guarantees are those of `runConsumer` in @flowline/messaging, whose inbox
 * table format it shares: the inbox claim and the projected rows commit together, offsets are
 * resolved only after the commit (a crash replays, the inbox skips), a failing transaction is
 * retried with backoff, then split so that only the poison message goes to the dead-letter topic
 * while the partition keeps flowing. One commit per chunk is what makes replay fast: a commit
 * waits for a WAL flush, which bounds per-message transactions to a few hundred per second.
 */
export async function runBatchConsumer<Tx extends SqlQueryable>(options: BatchConsumerOptions<Tx>): Promise<BatchConsumerHandle> {
  const logger = options.logger ?? stderrLogger;
  const maxChunk = options.maxChunk ?? 1_000;
  const maxRetries = options.maxRetries ?? 4;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 };
  const group = options.groupId;
  const tracer = messagingTracer();
  const metrics = {
    processed: consumerMetrics.processed(),
    duplicates: consumerMetrics.duplicates(),
    retries: consumerMetrics.retries(),
    deadLetters: consumerMetrics.deadLetters(),
    lag: consumerMetrics.lag(),
  };
  const stats = { applied: 0, duplicates: 0, undecodable: 0, deadLettered: 0, retries: 0 };
  const stopping = new AbortController();

  const consumer = options.kafka.consumer({ groupId: group, allowAutoTopicCreation: false, maxWaitTimeInMs: 250, maxBytesPerPartition: 4 * 1024 * 1024 });

  async function deadLetter(message: KafkaMessage, topic: string, partition: number, attempts: number, error: unknown): Promise<void> {
    stats.deadLettered++;
    metrics.deadLetters.inc({ group, topic });
    logger.warn('message dead-lettered', { group, topic, partition, offset: message.offset, attempts, error: errorMessage(error) });
    if (!options.deadLetters) return;
    const headers = deadLetterHeaders(message, { physicalTopic: options.names.physical(topic), partition, attempts, group, error });
    await options.deadLetters.publishRaw([{ topic: options.names.deadLetter(topic), key: message.key, value: message.value, headers }]);
  }

  /** One transaction with retries; false when it kept failing. */
  async function commitChunk(items: PositionedEvent[], topic: string, heartbeat: () => Promise<void>): Promise<{ ok: true } | { ok: false; error: unknown; attempts: number }> {
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const r = await options.transactions.run((tx) => options.apply(tx, items));
        stats.applied += r.applied;
        stats.duplicates += r.duplicates;
        metrics.processed.inc({ group, topic }, r.applied);
        if (r.duplicates) metrics.duplicates.inc({ group, topic }, r.duplicates);
        return { ok: true };
      } catch (error) {
        if (attempt > maxRetries || stopping.signal.aborted) return { ok: false, error, attempts: attempt };
        stats.retries++;
        metrics.retries.inc({ group, topic });
        const until = Date.now() + backoffDelay(attempt - 1, backoff);
        while (Date.now() < until) {
          if (!(await sleep(Math.min(1_000, until - Date.now()), stopping.signal))) return { ok: false, error, attempts: attempt };
          await heartbeat();
        }
      }
    }
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const topic = options.names.logical(batch.topic);
    for (let i = 0; i < batch.messages.length; i += maxChunk) {
      if (!isRunning() || isStale() || stopping.signal.aborted || options.paused?.()) return;
      const raw = batch.messages.slice(i, i + maxChunk);
      const items: { item: PositionedEvent; message: KafkaMessage }[] = [];
      for (const message of raw) {
        try {
          const envelope = decodeEnvelope(message.value);
          items.push({
            message,
            item: { event: asTrackedEvent(envelope), eventId: envelope.eventId, occurredAt: envelope.occurredAt, position: { topic, partition: batch.partition, offset: message.offset } },
          });
        } catch (error) {
          stats.undecodable++;
          await deadLetter(message, topic, batch.partition, 1, error);
        }
      }
      const first = raw[0];
      const parent = contextFromHeaders(readHeaders(first.headers));
      const ok = await tracer.startActiveSpan(
        `consume ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.consumer.group.name': group,
            'messaging.destination.partition.id': String(batch.partition),
            'messaging.batch.message_count': raw.length,
            'messaging.kafka.offset': Number(first.offset),
          },
        },
        parent,
        async (span) => {
          try {
            if (items.length === 0) return true;
            const whole = await commitChunk(items.map((x) => x.item), topic, heartbeat);
            if (whole.ok) return true;
            if (stopping.signal.aborted) return false;
            // Split: every message alone, so only the poison one is dead-lettered.
            span.recordException(whole.error as Error);
            for (const x of items) {
              const one = await commitChunk([x.item], topic, heartbeat);
              if (!one.ok) {
                if (stopping.signal.aborted) return false;
                await deadLetter(x.message, topic, batch.partition, one.attempts, one.error);
              }
            }
            return true;
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
            throw error;
          } finally {
            span.end();
          }
        },
      );
      if (!ok) return;
      const last = raw[raw.length - 1].offset;
      resolveOffset(last);
      metrics.lag.set({ group, topic, partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
      options.onCommitted?.(topic, batch.partition, last, batch.highWatermark);
      await heartbeat();
      await commitOffsetsIfNecessary();
    }
  }

  await consumer.connect();
  await consumer.subscribe({ topics: options.topics.map((t) => options.names.physical(t)), fromBeginning: options.fromBeginning ?? true });
  await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.concurrency ?? 4, eachBatch });

  let stopped: Promise<void> | null = null;
  return {
    consumer,
    stats,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await consumer.disconnect();
      })();
      return stopped;
    },
  };
}
