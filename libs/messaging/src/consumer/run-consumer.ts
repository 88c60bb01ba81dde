import type { EventEnvelope } from '@flowline/contracts';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool } from 'pg';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff';
import { createKafka, messagingConfigFromEnv } from '../kafka/config';
import { decodeEnvelope, EnvelopeDecodeError, Headers, readHeaders } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { TopicNames } from '../kafka/topics';
import { contextFromHeaders, messagingTracer } from '../kafka/tracing';
import { errorMessage, stderrLogger, type MessagingLogger } from '../logger';
import { consumerMetrics } from '../metrics';
import type { SqlQueryable } from '../sql';
import { claimInbox, claimInboxMany, DEFAULT_INBOX_TABLE, ensureInbox } from './inbox';
import { pgTransactions, type PgTransaction, type TransactionRunner } from './transactions';

/** Where a message came from, for handlers that need more than the envelope. */
export interface ConsumedMessage {
  /** Logical topic (no prefix). */
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** 1 on the first try. */
  attempt: number;
}

/**
 * Applies one event. Runs inside an open transaction (`tx`) that also holds the inbox row: throw
 * to roll both back and retry. Translate the event into a command; hold no business rules here.
 */
export type EventHandler<Tx extends SqlQueryable> = (envelope: EventEnvelope, tx: Tx, message: ConsumedMessage) => Promise<void>;

interface BaseConsumerOptions<Tx extends SqlQueryable> {
  /** Consumer group; also the inbox key, so keep it stable for a service's consumer. */
  groupId: string;
  /** Logical topics (`Topics.orderEvents`). */
  topics: string[];
  handler: EventHandler<Tx>;
  /** Default: `createKafka()` from the environment. */
  kafka?: Kafka;
  /** Default: `KAFKA_TOPIC_PREFIX`. */
  topicPrefix?: string;
  /** Inbox table in the service database (default `messaging_inbox`; created if missing). */
  inboxTable?: string;
  /** Retries after the first failed try before the message is dead-lettered (default 4, i.e. 5 tries). */
  maxRetries?: number;
  /** Backoff between tries (default 200 ms doubling to 10 s, 20% jitter). */
  backoff?: BackoffOptions;
  /** False sends a failure straight to the dead-letter topic (e.g. a validation error). Default: retry everything. */
  isRetriable?: (error: unknown) => boolean;
  /** A new group starts at the earliest offset (default true: nothing published before start is missed). */
  fromBeginning?: boolean;
  /** Partitions handled in parallel by this process (default 1). Order within a partition always holds. */
  partitionsConsumedConcurrently?: number;
  /**
   * Group commit (off by default: one transaction per message). Up to `maxMessages` consecutive
   * messages of a partition batch share ONE transaction: their inbox rows are claimed in one
   * statement, then each handler runs, and one COMMIT covers them all, so a busy partition pays
   * one commit (one WAL flush) per chunk instead of per message. A chunk never holds two messages
   * with the same key, so a handler whose effects belong to the message's key (an order's stream,
   * for a topic keyed by order id) always reads that key's committed state. If the chunk's
   * transaction fails, none of it was applied and its messages take the per-message path
   * (retries, dead letters) one by one. Keep chunks small where the transaction holds back others
   * (an event log read in transaction-id order waits for it).
   */
  batch?: { maxMessages: number };
  /**
   * Messages for which this returns false are acknowledged without a transaction or an inbox row
   * (events the handler would ignore anyway). Default: every message goes to the handler.
   */
  accept?: (envelope: EventEnvelope, topic: string) => boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /**
   * On stop: false (default) finishes only the message in hand, so shutdown stays short however
   * large the fetched batch; true finishes the whole batch in hand first (retry waits are still cut).
   * Either way every processed message is committed before the group is left.
   */
  drainBatchOnStop?: boolean;
  /** Producer for dead letters (default: an own idempotent publisher on the same client). */
  deadLetterPublisher?: EventPublisher;
  logger?: MessagingLogger;
  /**
   * Called when kafkajs gives up on the consumer (a crash it will not restart), e.g. to exit the
   * process so the orchestrator restarts it. Retriable crashes are restarted by kafkajs itself.
   */
  onFatal?: (error: unknown) => void;
}

export type RunConsumerOptions<Tx extends SqlQueryable> = BaseConsumerOptions<Tx> & { transactions: TransactionRunner<Tx> };
export type RunPgConsumerOptions = BaseConsumerOptions<PgTransaction> & { pool: Pool };

export interface ConsumerHandle {
  readonly groupId: string;
  readonly consumer: Consumer;
  /**
   * Graceful stop (call it from the service's shutdown hook / SIGTERM): finishes the message (or,
   * with `drainBatchOnStop`, the batch) in hand, commits every processed offset and leaves the
   * group, so its partitions move to another member at once.
   */
  stop(): Promise<void>;
}

type Outcome = 'applied' | 'duplicate' | 'skipped' | 'dead-lettered' | 'aborted';

/**
 * Runs a consumer group over `topics` with an inbox, bounded retries and dead letters.
 *
 * Per message: one database transaction claims `(groupId, eventId)` in the inbox and runs the
 * handler; offsets are committed only for messages whose transaction committed (or that went to
 * `<topic>.dlq`). After `maxRetries` failed retries the message is published to the dead-letter
 * topic with the error and its origin in headers, and the partition moves on.
 */
export async function runConsumer(options: RunPgConsumerOptions): Promise<ConsumerHandle>;
export async function runConsumer<Tx extends SqlQueryable>(options: RunConsumerOptions<Tx>): Promise<ConsumerHandle>;
export async function runConsumer(options: RunPgConsumerOptions | RunConsumerOptions<SqlQueryable>): Promise<ConsumerHandle> {
  const transactions: TransactionRunner<SqlQueryable> = 'pool' in options ? pgTransactions(options.pool) : options.transactions;
  const handler = options.handler as EventHandler<SqlQueryable>;
  const kafka = options.kafka ?? createKafka();
  const names = new TopicNames(options.topicPrefix ?? messagingConfigFromEnv().topicPrefix);
  const inboxTable = options.inboxTable ?? DEFAULT_INBOX_TABLE;
  const maxRetries = options.maxRetries ?? 4;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 };
  const isRetriable = options.isRetriable ?? (() => true);
  const accept = options.accept ?? (() => true);
  const chunkSize = Math.max(1, Math.floor(options.batch?.maxMessages ?? 1));
  const logger = options.logger ?? stderrLogger;
  const group = options.groupId;
  const tracer = messagingTracer();
  const metrics = {
    processed: consumerMetrics.processed(),
    duplicates: consumerMetrics.duplicates(),
    retries: consumerMetrics.retries(),
    deadLetters: consumerMetrics.deadLetters(),
    lag: consumerMetrics.lag(),
  };

  await ensureInbox(transactions, inboxTable);

  const ownPublisher = options.deadLetterPublisher ? null : new EventPublisher({ kafka, topicPrefix: names.prefix });
  const dlq = options.deadLetterPublisher ?? ownPublisher!;
  await dlq.connect();

  const consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeout ?? 30_000,
    heartbeatInterval: options.heartbeatInterval ?? 3_000,
    // Short fetch waits keep shutdown quick; data is returned as soon as it exists anyway.
    maxWaitTimeInMs: 1_000,
  });
  const stopping = new AbortController();

  consumer.on(consumer.events.CRASH, (e) => {
    logger.error('consumer crashed', { group, error: errorMessage(e.payload.error), restart: e.payload.restart });
    if (!e.payload.restart && !stopping.signal.aborted) options.onFatal?.(e.payload.error);
  });

  async function deadLetter(message: KafkaMessage, topic: string, partition: number, attempts: number, error: unknown): Promise<void> {
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) {
      const first = Array.isArray(v) ? v[0] : v;
      if (first !== undefined) headers[k] = first;
    }
    Object.assign(headers, {
      [Headers.dlqError]: errorMessage(error).slice(0, 4_000),
      [Headers.dlqTopic]: names.physical(topic),
      [Headers.dlqPartition]: String(partition),
      [Headers.dlqOffset]: message.offset,
      [Headers.dlqAttempts]: String(attempts),
      [Headers.dlqGroup]: group,
      [Headers.dlqFailedAt]: new Date().toISOString(),
    });
    await dlq.publishRaw([{ topic: names.deadLetter(topic), key: message.key, value: message.value, headers }]);
    metrics.deadLetters.inc({ group, topic });
    logger.warn('message dead-lettered', { group, topic, partition, offset: message.offset, attempts, error: errorMessage(error) });
  }

  function spanAttributes(topic: string, partition: number, message: KafkaMessage, envelope: EventEnvelope) {
    return {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': group,
      'messaging.destination.partition.id': String(partition),
      'messaging.kafka.offset': Number(message.offset),
      'messaging.message.id': envelope.eventId,
      'flowline.event.type': envelope.type,
    };
  }

  async function handle(message: KafkaMessage, topic: string, partition: number, heartbeat: () => Promise<void>): Promise<Outcome> {
    const headers = readHeaders(message.headers);
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(message.value);
    } catch (e) {
      // A message that cannot be read never will be: no retries.
      await deadLetter(message, topic, partition, 1, e);
      return 'dead-lettered';
    }
    if (!accept(envelope, topic)) return 'skipped';
    const parent = contextFromHeaders(headers);
    return tracer.startActiveSpan(
      `consume ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: spanAttributes(topic, partition, message, envelope),
      },
      parent,
      async (span) => {
        try {
          let lastError: unknown;
          let attempt = 0;
          while (true) {
            attempt++;
            try {
              const info: ConsumedMessage = { topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers, attempt };
              const fresh = await transactions.run(async (tx) => {
                const claimed = await claimInbox(tx, inboxTable, { group, eventId: envelope.eventId, eventType: envelope.type, topic, partition, offset: message.offset });
                if (claimed) await handler(envelope, tx, info);
                return claimed;
              });
              if (fresh) metrics.processed.inc({ group, topic });
              else metrics.duplicates.inc({ group, topic });
              span.setAttribute('flowline.inbox.duplicate', !fresh);
              return fresh ? 'applied' : 'duplicate';
            } catch (e) {
              lastError = e;
              span.recordException(e as Error);
              if (attempt > maxRetries || !isRetriable(e)) break;
              metrics.retries.inc({ group, topic });
              if (!(await pause(backoffDelay(attempt - 1, backoff), heartbeat))) {
                span.setStatus({ code: SpanStatusCode.ERROR, message: 'stopped while retrying' });
                return 'aborted';
              }
            }
          }
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(lastError) });
          await deadLetter(message, topic, partition, attempt, lastError);
          return 'dead-lettered';
        } finally {
          span.end();
        }
      },
    );
  }

  /** Sleeps between tries, heartbeating so the group keeps the partition; false when stopping. */
  async function pause(ms: number, heartbeat: () => Promise<void>): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!(await sleep(Math.min(1_000, until - Date.now()), stopping.signal))) return false;
      await heartbeat();
    }
    return true;
  }

  interface Pending {
    message: KafkaMessage;
    /** null: not accepted, acknowledged without a transaction. */
    envelope: EventEnvelope | null;
    headers: Record<string, string>;
  }

  /**
   * One chunk in one transaction (see `batch`). Resolves to false when the consumer is stopping
   * and the chunk's remainder was left unprocessed (not resolved: it is redelivered).
   */
  async function applyChunk(chunk: Pending[], topic: string, partition: number, resolveOffset: (offset: string) => void, heartbeat: () => Promise<void>): Promise<boolean> {
    const work = chunk.filter((p): p is Pending & { envelope: EventEnvelope } => p.envelope !== null);
    if (work.length > 0) {
      let applied = 0;
      let duplicates = 0;
      try {
        await transactions.run(async (tx) => {
          applied = 0;
          duplicates = 0;
          const claimed = await claimInboxMany(tx, inboxTable, {
            group,
            topic,
            partition,
            events: work.map((p) => ({ eventId: p.envelope.eventId, eventType: p.envelope.type, offset: p.message.offset })),
          });
          const seen = new Set<string>();
          for (const p of work) {
            const id = p.envelope.eventId;
            const fresh = claimed.has(id) && !seen.has(id);
            seen.add(id);
            if (!fresh) {
              duplicates++;
              continue;
            }
            const info: ConsumedMessage = { topic, partition, offset: p.message.offset, key: p.message.key?.toString('utf8') ?? null, headers: p.headers, attempt: 1 };
            await tracer.startActiveSpan(
              `consume ${topic}`,
              { kind: SpanKind.CONSUMER, attributes: { ...spanAttributes(topic, partition, p.message, p.envelope), 'flowline.consumer.chunk': work.length } },
              contextFromHeaders(p.headers),
              async (span) => {
                try {
                  await handler(p.envelope, tx, info);
                } catch (e) {
                  span.recordException(e as Error);
                  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
                  throw e;
                } finally {
                  span.end();
                }
              },
            );
            applied++;
          }
        });
      } catch {
        // Nothing of the chunk was applied: one message at a time, with retries and dead letters.
        for (const p of chunk) {
          if (p.envelope !== null && (await handle(p.message, topic, partition, heartbeat)) === 'aborted') return false;
          resolveOffset(p.message.offset);
        }
        return true;
      }
      if (applied > 0) metrics.processed.inc({ group, topic }, applied);
      if (duplicates > 0) metrics.duplicates.inc({ group, topic }, duplicates);
    }
    resolveOffset(chunk[chunk.length - 1].message.offset);
    await heartbeat();
    return true;
  }

  async function eachChunkedBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const topic = names.logical(batch.topic);
    const high = Number(batch.highWatermark);
    let chunk: Pending[] = [];
    let keys = new Set<string>();
    const flush = async (): Promise<boolean> => {
      if (chunk.length === 0) return true;
      const c = chunk;
      chunk = [];
      keys = new Set();
      const goOn = await applyChunk(c, topic, batch.partition, resolveOffset, heartbeat);
      metrics.lag.set({ group, topic, partition: String(batch.partition) }, Math.max(0, high - Number(c[c.length - 1].message.offset) - 1));
      return goOn;
    };
    const stopRequested = () => !options.drainBatchOnStop && (!isRunning() || stopping.signal.aborted);
    for (const message of batch.messages) {
      if (isStale()) return;
      if (stopRequested()) break;
      let envelope: EventEnvelope;
      try {
        envelope = decodeEnvelope(message.value);
      } catch (e) {
        if (!(await flush())) return;
        await deadLetter(message, topic, batch.partition, 1, e);
        resolveOffset(message.offset);
        continue;
      }
      const accepted = accept(envelope, topic);
      const key = message.key?.toString('utf8') ?? '';
      if (accepted && keys.has(key) && !(await flush())) return;
      chunk.push({ message, envelope: accepted ? envelope : null, headers: readHeaders(message.headers) });
      if (accepted) keys.add(key);
      if (chunk.length >= chunkSize && !(await flush())) return;
    }
    // Stopping: the chunk not yet applied stays unresolved and is redelivered to the next owner.
    if (!isStale() && !stopRequested()) await flush();
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const topic = names.logical(batch.topic);
    const high = Number(batch.highWatermark);
    for (const message of batch.messages) {
      if (isStale()) break;
      if (!options.drainBatchOnStop && (!isRunning() || stopping.signal.aborted)) break;
      const outcome = await handle(message, topic, batch.partition, heartbeat);
      if (outcome === 'aborted') break;
      resolveOffset(message.offset);
      metrics.lag.set({ group, topic, partition: String(batch.partition) }, Math.max(0, high - Number(message.offset) - 1));
      await heartbeat();
    }
  }

  await consumer.connect();
  await consumer.subscribe({ topics: options.topics.map((t) => names.physical(t)), fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: true,
    // Offsets are resolved one by one, after each message's transaction committed.
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: chunkSize > 1 ? eachChunkedBatch : eachBatch,
  });

  let stopped: Promise<void> | null = null;
  return {
    groupId: group,
    consumer,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        // kafkajs waits for the batch in hand, commits resolved offsets and sends LeaveGroup.
        await consumer.disconnect();
        await ownPublisher?.disconnect();
      })();
      return stopped;
    },
  };
}
