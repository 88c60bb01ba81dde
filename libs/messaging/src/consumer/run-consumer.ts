import type { EventEnvelope } from '@flowline/contracts';
import { INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool } from 'pg';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff';
import { adaptFetches } from '../kafka/adaptive-fetch';
import { createKafka, messagingConfigFromEnv } from '../kafka/config';
import { deadLetterHeaders, decodeEnvelope, Headers, readHeaders } from '../kafka/headers';
import { EventPublisher } from '../kafka/publisher';
import { TopicNames } from '../kafka/topics';
import { contextFromHeaders, messagingTracer } from '../kafka/tracing';
import { errorMessage, stderrLogger, type MessagingLogger } from '../logger';
import { consumerMetrics } from '../metrics';
import { forgetReadiness, reportFatal, reportReadiness } from '../readiness';
import type { SqlQueryable } from '../sql';
import { isConflictError, isInfrastructureError } from './errors';
import { claimInboxEntries, DEFAULT_INBOX_TABLE, ensureInbox } from './inbox';
import { OffsetCommitter } from './offset-committer';
import { pgTransactions, type PgTransaction, type TransactionRunner } from './transactions';

/** Where a message came from, for handlers that need more than the envelope. */

/** `KAFKA_CONSUMER_MAX_BYTES` (bytes), default 4 MiB: the most one fetch brings into memory. */
export function consumerMaxBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KAFKA_CONSUMER_MAX_BYTES);
  return Number.isInteger(n) && n >= 64 * 1024 ? n : 4 * 1024 * 1024;
}

/**
 * `KAFKA_SESSION_TIMEOUT_MS`, default 10000, at least 6000 (the broker's
 * group.min.session.timeout.ms): how long the group waits for a member that stopped heartbeating.
 * After a crash (kill -9, OOM) the dead member's partitions wait this long before another member,
 * or the restarted process, takes them over: lower is faster failover, higher tolerates longer
 * pauses (GC, a starved CPU) without a needless rebalance. 10 s, not kafkajs' 30 s: the loop
 * heartbeats every 3 s and every second while a batch waits on its handler (withHeartbeat), so
 * only an event loop blocked for 10 s loses its partitions, while a crashed service's paid orders
 * waited up to 30 s for their reservation (fault-injection audit).
 */
export function consumerSessionTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.KAFKA_SESSION_TIMEOUT_MS);
  return Number.isInteger(n) && n >= 6_000 ? n : 10_000;
}

/**
 * `KAFKA_CONSUMER_COMMIT_INTERVAL_MS`, default 1000: least time between two offset commits of a
 * consumer (ADR 0022). 0 commits after every batch (kafkajs' autoCommit).
 */
export function consumerCommitIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KAFKA_CONSUMER_COMMIT_INTERVAL_MS;
  const n = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(n) && n >= 0 ? n : 1_000;
}

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

/** One decoded message handed to a batch processor. */
export interface BatchItem {
  envelope: EventEnvelope;
  /** Logical topic (no prefix). */
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
}

/**
 * What became of one item of a batch: applied (`done`), already applied before (`duplicate`), or
 * refused on its own content and to be dead-lettered with the reason.
 */
export type ItemResult = { kind: 'done' } | { kind: 'duplicate' } | { kind: 'dead-letter'; error: unknown; attempts?: number };

/**
 * Applies a batch of items (one partition's, or several partitions' with `groupCommit`) in ONE
 * database transaction including their inbox claims, and says per item what became of it. Throw
 * to roll the whole batch back: an infrastructure error (see `isInfrastructureError`) is retried
 * without limit; after any other error the batch is split and each item tried alone (`maxRetries`
 * retries), so only the item that fails on its own content is dead-lettered.
 */
export type BatchProcessor = (items: BatchItem[], context: { attempt: number }) => Promise<ItemResult[]>;

/**
 * Applies one event. Runs inside an open transaction (`tx`) that also holds the inbox row: throw
 * to roll both back and retry. Translate the event into a command; hold no business rules here.
 */
export type EventHandler<Tx extends SqlQueryable> = (envelope: EventEnvelope, tx: Tx, message: ConsumedMessage) => Promise<void>;

interface CommonConsumerOptions {
  /** Consumer group; also the inbox key, so keep it stable for a service's consumer. */
  groupId: string;
  /** Logical topics (`Topics.orderEvents`). */
  topics: string[];
  /** Default: `createKafka()` from the environment. */
  kafka?: Kafka;
  /** Default: `KAFKA_TOPIC_PREFIX`. */
  topicPrefix?: string;
  /** Retries of a content failure after the first try before the message is dead-lettered (default 4, i.e. 5 tries). */
  maxRetries?: number;
  /** Backoff between tries of a content failure (default 200 ms doubling to 10 s, 20% jitter). */
  backoff?: BackoffOptions;
  /** Backoff while the infrastructure is away (default 200 ms doubling, capped at 5 s). Retried without limit. */
  infrastructureBackoff?: BackoffOptions;
  /** False sends a content failure straight to the dead-letter topic (e.g. a validation error). Default: retry it. */
  isRetriable?: (error: unknown) => boolean;
  /** A new group starts at the earliest offset (default true: nothing published before start is missed). */
  fromBeginning?: boolean;
  /** Partitions handled in parallel by this process (default 1). Order within a partition always holds. */
  partitionsConsumedConcurrently?: number;
  /**
   * Messages for which this returns false are acknowledged without a transaction or an inbox row
   * (events the handler would ignore anyway). Default: every message goes to the handler.
   */
  accept?: (envelope: EventEnvelope, topic: string) => boolean;
  /**
   * The same filter on the `type` header, before the message is decoded at all: a message whose
   * header type this refuses is acknowledged without parsing its JSON (stock levels and ATP that
   * most consumers of inventory.events.v1 ignore). A message without the header is decoded and
   * given to `accept` as usual.
   */
  acceptType?: (type: string, topic: string) => boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** Longest wait of a fetch for new data (default 1000 ms; shorter keeps shutdown quick). */
  maxWaitTimeInMs?: number;
  /**
   * Least bytes a fetch waits for (up to `maxWaitTimeInMs`; default 1: answer at once). A consumer
   * off the latency path (a snapshot, a read model nobody waits for) raises it so each fetch, and
   * so each transaction, carries more messages.
   */
  minBytes?: number;
  /**
   * A batching consumer (`minBytes` > 1) batches only while data flows: after a fetch that brought
   * nothing, the next waits up to this long (default 1000 ms, never less than `maxWaitTimeInMs`)
   * for the first byte, and the one after a fetch with messages goes back to `minBytes` /
   * `maxWaitTimeInMs` (kafka/adaptive-fetch.ts). An idle consumer then fetches about once a second
   * instead of every `maxWaitTimeInMs`.
   */
  idleMaxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Most bytes one fetch may bring (default `KAFKA_CONSUMER_MAX_BYTES`, else 4 MiB; kafkajs' own
   * default is 10 MiB): bounds the messages held in memory at once, whatever the backlog.
   */
  maxBytes?: number;
  /**
   * Least time between two offset commits (default `KAFKA_CONSUMER_COMMIT_INTERVAL_MS`, else
   * 1000 ms; 0: after every batch). Processed offsets are committed together by a timer; a crash
   * or a rebalance redelivers at most this long's messages, which the inbox dedupes (ADR 0022).
   * A graceful stop commits everything processed before the group is left.
   */
  commitIntervalMs?: number;
  /**
   * On stop: false (default) finishes only the message in hand, so shutdown stays short however
   * large the fetched batch; true finishes the whole batch in hand first (retry waits are still cut).
   * Either way every processed message is committed before the group is left.
   */
  drainBatchOnStop?: boolean;
  /** While true, fetched batches are left unapplied and unresolved (e.g. a projection swap). */
  paused?: () => boolean;
  /** Producer for dead letters (default: an own idempotent publisher on the same client); null: count and log only. */
  deadLetterPublisher?: EventPublisher | null;
  /** Called after each committed chunk with the last offset it covered. */
  onCommitted?: (topic: string, partition: number, lastOffset: string, highWatermark: string) => void;
  logger?: MessagingLogger;
  /**
   * Called when kafkajs gives up on the consumer (a crash it will not restart), e.g. to exit the
   * process so the orchestrator restarts it. Retriable crashes are restarted by kafkajs itself.
   */
  onFatal?: (error: unknown) => void;
  /**
   * A consumer that gives up for good is reported to the process's fatal handler, which restarts a
   * service (libs/platform restartOnFatal). false for a consumer whose loss the caller handles
   * itself: a rebuild's replay must not restart the live service (default true).
   */
  restartProcessOnFatal?: boolean;
  /**
   * false: resolve once subscribed and return at once while kafkajs joins the group in the
   * background (a restarted service answers HTTP before the group rebalanced). Default true.
   */
  awaitJoin?: boolean;
  /**
   * How long stop() waits for kafkajs to leave the group (default 5 s). kafkajs finishes the
   * operation in hand first, and on a loaded broker that can be a retry loop (ListOffsets on a
   * partition without a leader yet) lasting far beyond a pod's grace period. Past the deadline the
   * stop goes on: nothing unapplied was resolved, so the next owner gets it again (idempotent).
   */
  stopTimeoutMs?: number;
}

interface HandlerModeOptions<Tx extends SqlQueryable> extends CommonConsumerOptions {
  handler: EventHandler<Tx>;
  /** Inbox table in the service database (default `messaging_inbox`; created if missing). */
  inboxTable?: string;
  /**
   * Group commit (off by default: one transaction per message). Up to `maxMessages` consecutive
   * messages of a partition batch share ONE transaction: their inbox rows are claimed in one
   * statement, then each handler runs, and one COMMIT covers them all. A chunk never holds two
   * messages with the same key, so a handler whose effects belong to the message's key always
   * reads that key's committed state. A chunk that fails on content is split into single messages
   * (retries, dead letters) one by one.
   */
  batch?: { maxMessages: number };
  /**
   * With `batch`: the chunks of partitions handled concurrently (`partitionsConsumedConcurrently`)
   * share one transaction, up to `batch.maxMessages`, the first waiting at most `lingerMs` for
   * company. Keys stay apart within a partition's chunk only: two messages of one key from
   * different topics may share the transaction, in offset order per partition; a handler sees the
   * earlier one's writes through `tx`, not through other connections.
   */
  groupCommit?: { lingerMs: number };
}

/**
 * The batch mode of the one consumer loop: the caller applies whole batches (its own transaction
 * and inbox). `groupCommit` collects the batches of every partition handled concurrently into one
 * transaction (up to `maxMessages`, waiting at most `lingerMs` for company).
 */
export interface RunBatchConsumerOptions extends CommonConsumerOptions {
  processBatch: BatchProcessor;
  /** Most messages per processBatch call (default 1000). */
  maxMessages?: number;
  /** Cross-partition group commit: batches of concurrent partitions share one processBatch call. */
  groupCommit?: { lingerMs: number };
}

export type RunConsumerOptions<Tx extends SqlQueryable> = HandlerModeOptions<Tx> & { transactions: TransactionRunner<Tx> };
export type RunPgConsumerOptions = HandlerModeOptions<PgTransaction> & {
  pool: Pool;
  /** The handler's transactions run their statements on generic plans (see PgTransactionOptions). */
  genericPlans?: boolean;
};

export interface ConsumerStats {
  applied: number;
  duplicates: number;
  deadLettered: number;
  /** Of the dead letters: messages that could not be decoded. */
  undecodable: number;
  retries: number;
  /** Retries because the infrastructure was away (never dead-lettered). */
  infrastructureRetries: number;
  /** Batches run again after losing a race to a concurrent write (never dead-lettered). */
  conflicts: number;
  /** processBatch calls that committed. */
  transactions: number;
}

export interface ConsumerHandle {
  readonly groupId: string;
  readonly consumer: Consumer;
  readonly stats: ConsumerStats;
  /** Resolves once the group was joined the first time (`awaitJoin: false` returns before). */
  readonly joined: Promise<void>;
  /**
   * Graceful stop (call it from the service's shutdown hook / SIGTERM): finishes the message (or,
   * with `drainBatchOnStop`, the batch) in hand, commits every processed offset and leaves the
   * group, so its partitions move to another member at once.
   */
  stop(): Promise<void>;
}

/** Thrown inside the loop when the consumer stops while waiting to retry. */
class Stopping extends Error {
  constructor() {
    super('consumer stopping');
  }
}

interface Unit {
  item: BatchItem;
  message: KafkaMessage;
}

/**
 * Runs a consumer group over `topics` with an inbox, bounded retries of content failures and dead
 * letters, and unbounded retries of infrastructure failures.
 *
 * Per message (default): one database transaction claims `(groupId, eventId)` in the inbox and
 * runs the handler; offsets are committed only for messages whose transaction committed (or that
 * went to `<topic>.dlq`). While the database or the broker is away the message is retried with
 * capped backoff, the consumer reports itself not ready (`consumer <group>` in the readiness
 * registry), and the partition waits: nothing is dead-lettered for an outage.
 */
export async function runConsumer(options: RunPgConsumerOptions): Promise<ConsumerHandle>;
export async function runConsumer<Tx extends SqlQueryable>(options: RunConsumerOptions<Tx>): Promise<ConsumerHandle>;
export async function runConsumer(options: RunPgConsumerOptions | RunConsumerOptions<SqlQueryable>): Promise<ConsumerHandle> {
  const transactions: TransactionRunner<SqlQueryable> = 'pool' in options ? pgTransactions(options.pool, { genericPlans: options.genericPlans === true }) : options.transactions;
  const handler = options.handler as EventHandler<SqlQueryable>;
  const inboxTable = options.inboxTable ?? DEFAULT_INBOX_TABLE;
  const group = options.groupId;
  const tracer = messagingTracer();
  await ensureInbox(transactions, inboxTable);

  const processBatch: BatchProcessor = (items, { attempt }) =>
    transactions.run(async (tx) => {
      // Each item's own topic and partition: with groupCommit a transaction spans partitions.
      const claimed = await claimInboxEntries(
        tx,
        inboxTable,
        group,
        items.map((i) => ({ eventId: i.envelope.eventId, eventType: i.envelope.type, topic: i.topic, partition: i.partition, offset: i.offset })),
      );
      const seen = new Set<string>();
      const results: ItemResult[] = [];
      for (const item of items) {
        const id = item.envelope.eventId;
        const fresh = claimed.has(id) && !seen.has(id);
        seen.add(id);
        if (!fresh) {
          results.push({ kind: 'duplicate' });
          continue;
        }
        const info: ConsumedMessage = { topic: item.topic, partition: item.partition, offset: item.offset, key: item.key, headers: item.headers, attempt };
        await tracer.startActiveSpan(
          `consume ${item.topic}`,
          { kind: SpanKind.CONSUMER, attributes: { ...spanAttributes(group, item), 'flowline.consumer.chunk': items.length } },
          contextFromHeaders(item.headers),
          async (span) => {
            try {
              await handler(item.envelope, tx, info);
            } catch (e) {
              span.recordException(e as Error);
              span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
              throw e;
            } finally {
              span.end();
            }
          },
        );
        results.push({ kind: 'done' });
      }
      return results;
    });

  const { groupCommit, ...rest } = options;
  return runBatchConsumer({
    ...rest,
    processBatch,
    maxMessages: Math.max(1, Math.floor(options.batch?.maxMessages ?? 1)),
    ...(groupCommit && options.batch ? { groupCommit } : {}),
    keysApart: true,
    batchSpans: false,
  });
}

function spanAttributes(group: string, item: BatchItem) {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': item.topic,
    'messaging.consumer.group.name': group,
    'messaging.destination.partition.id': String(item.partition),
    'messaging.kafka.offset': Number(item.offset),
    'messaging.message.id': item.envelope.eventId,
    'flowline.event.type': item.envelope.type,
  };
}

/**
 * The one consumer loop of Flowline (runConsumer is its per-message mode). See
 * {@link RunBatchConsumerOptions} and {@link BatchProcessor} for the batch contract.
 */
export async function runBatchConsumer(options: RunBatchConsumerOptions & { keysApart?: boolean; batchSpans?: boolean }): Promise<ConsumerHandle> {
  const kafka = options.kafka ?? createKafka();
  const names = new TopicNames(options.topicPrefix ?? messagingConfigFromEnv().topicPrefix);
  const maxRetries = options.maxRetries ?? 4;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 };
  const infraBackoff = options.infrastructureBackoff ?? { initialMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2 };
  const isRetriable = options.isRetriable ?? (() => true);
  const accept = options.accept ?? (() => true);
  const acceptType = options.acceptType;
  const chunkSize = Math.max(1, Math.floor(options.maxMessages ?? 1000));
  const keysApart = options.keysApart ?? false;
  const logger = options.logger ?? stderrLogger;
  const group = options.groupId;
  const component = `consumer ${group}`;
  const tracer = messagingTracer();
  const metrics = {
    processed: consumerMetrics.processed(),
    duplicates: consumerMetrics.duplicates(),
    retries: consumerMetrics.retries(),
    deadLetters: consumerMetrics.deadLetters(),
    lag: consumerMetrics.lag(),
  };
  const stats: ConsumerStats = { applied: 0, duplicates: 0, deadLettered: 0, undecodable: 0, retries: 0, infrastructureRetries: 0, conflicts: 0, transactions: 0 };
  const stopping = new AbortController();
  /** Work units currently failing on infrastructure; the component is ready when none is. */
  const failing = new Set<string>();

  const ownPublisher = options.deadLetterPublisher === undefined ? new EventPublisher({ kafka, topicPrefix: names.prefix }) : null;
  const dlq = options.deadLetterPublisher === undefined ? ownPublisher : options.deadLetterPublisher;

  const consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeout ?? consumerSessionTimeoutFromEnv(),
    heartbeatInterval: options.heartbeatInterval ?? 3_000,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1_000,
    ...(options.minBytes ? { minBytes: options.minBytes } : {}),
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    maxBytes: options.maxBytes ?? consumerMaxBytesFromEnv(),
  });
  const stopAdapting = options.minBytes !== undefined && options.minBytes > 1 ? adaptFetches(group, { idleMaxWaitMs: options.idleMaxWaitTimeInMs ?? 1_000 }) : null;

  /**
   * The group's own commit (the batch payload's, which is kafkajs' consumer group without the
   * runner's gate): `consumer.commitOffsets` silently does nothing once kafkajs is stopping, which
   * is exactly when the last batch's offsets must go. Taken from the latest batch, so it follows
   * kafkajs' restarts.
   */
  let groupCommit: EachBatchPayload['commitOffsetsIfNecessary'] | null = null;
  const committer = new OffsetCommitter({
    intervalMs: options.commitIntervalMs ?? consumerCommitIntervalFromEnv(),
    commit: async (offsets) => {
      if (!groupCommit) throw new Error('no consumer group to commit with yet');
      const topics = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
      await groupCommit({ topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
    },
    onError: (e) => logger.warn('offset commit failed; retried with the next one (processed messages may be redelivered and deduped)', { group, error: errorMessage(e) }),
  });
  // A member commits only the partitions it owns after a rebalance.
  consumer.on(consumer.events.GROUP_JOIN, (e) => committer.retainOnly(e.payload.memberAssignment));

  consumer.on(consumer.events.CRASH, (e) => {
    logger.error('consumer crashed', { group, error: errorMessage(e.payload.error), restart: e.payload.restart });
    if (!e.payload.restart && !stopping.signal.aborted) {
      // Nothing will restart it: readiness stays red, naming why, until the process is restarted.
      reportReadiness(component, false, `gave up: ${errorMessage(e.payload.error)}`);
      options.onFatal?.(e.payload.error);
      if (options.restartProcessOnFatal ?? true) reportFatal(component, e.payload.error);
    }
  });

  function markFailing(unit: string, error: unknown): void {
    failing.add(unit);
    reportReadiness(component, false, errorMessage(error));
  }

  function markOk(unit: string): void {
    if (!failing.delete(unit)) return;
    if (failing.size === 0) {
      reportReadiness(component, true);
      logger.info('consumer recovered', { group });
    }
  }

  async function deadLetter(message: KafkaMessage, topic: string, partition: number, attempts: number, error: unknown): Promise<void> {
    stats.deadLettered++;
    metrics.deadLetters.inc({ group, topic });
    logger.warn('message dead-lettered', { group, topic, partition, offset: message.offset, attempts, error: errorMessage(error) });
    if (!dlq) return;
    const headers = deadLetterHeaders(message, { physicalTopic: names.physical(topic), partition, attempts, group, error });
    // Publishing the dead letter is infrastructure too: wait for the broker rather than lose it.
    await retryInfrastructure(`dlq ${topic}/${partition}`, () => dlq.publishRaw([{ topic: names.deadLetter(topic), key: message.key, value: message.value, headers }]));
  }

  /** Runs `fn` until it succeeds or fails on something other than infrastructure. */
  async function retryInfrastructure<T>(unit: string, fn: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        const r = await fn();
        markOk(unit);
        return r;
      } catch (e) {
        if (!isInfrastructureError(e)) throw e;
        markFailing(unit, e);
        stats.infrastructureRetries++;
        if (n === 0) logger.warn('infrastructure unavailable; retrying without limit', { group, unit, error: errorMessage(e) });
        if (!(await sleep(backoffDelay(n, infraBackoff), stopping.signal))) throw new Stopping();
      }
    }
  }

  /**
   * Applies units with the retry policy. Returns one result per unit (dead letters included; the
   * caller publishes them). Throws Stopping when the consumer stops while waiting.
   */
  async function applyWithRetries(units: Unit[], unit: string, tried = 0): Promise<{ results: ItemResult[]; attempts: number }> {
    let contentFailures = 0;
    let lastError: unknown;
    for (let n = 0; ; n++) {
      const attempt = tried + contentFailures + 1;
      try {
        const results = await processOnce(units, attempt);
        markOk(unit);
        return { results: results.map((r) => (r.kind === 'dead-letter' ? { ...r, attempts: r.attempts ?? attempt } : r)), attempts: attempt };
      } catch (e) {
        if (stopping.signal.aborted) throw new Stopping();
        if (isConflictError(e)) {
          // Lost a race: the whole batch again (new transaction, fresh state), never dead-lettered.
          stats.conflicts++;
          metrics.retries.inc({ group, topic: units[0].item.topic });
          if (!(await sleep(Math.min(1_000, 10 * 2 ** Math.min(n, 6)) * (0.5 + Math.random() / 2), stopping.signal))) throw new Stopping();
          continue;
        }
        if (isInfrastructureError(e)) {
          markFailing(unit, e);
          stats.infrastructureRetries++;
          metrics.retries.inc({ group, topic: units[0].item.topic });
          if (stats.infrastructureRetries === 1 || n === 0) logger.warn('infrastructure unavailable; retrying without limit', { group, unit, error: errorMessage(e) });
          if (!(await sleep(backoffDelay(Math.min(n, 20), infraBackoff), stopping.signal))) throw new Stopping();
          continue;
        }
        markOk(unit);
        lastError = e;
        contentFailures++;
        // Several items: split at once (a content failure belongs to one of them).
        if (units.length > 1) break;
        if (contentFailures <= maxRetries && isRetriable(e)) {
          stats.retries++;
          metrics.retries.inc({ group, topic: units[0].item.topic });
          if (!(await sleep(backoffDelay(contentFailures - 1, backoff), stopping.signal))) throw new Stopping();
          continue;
        }
        break;
      }
    }
    const attempts = tried + contentFailures;
    if (units.length === 1) return { results: [{ kind: 'dead-letter', error: lastError, attempts }], attempts };
    // One bad message must not hold the others back: each alone.
    const results: ItemResult[] = [];
    for (const u of units) results.push(...(await applyWithRetries([u], unit, attempts)).results);
    return { results, attempts };
  }

  async function processOnce(units: Unit[], attempt: number): Promise<ItemResult[]> {
    const results = await options.processBatch(
      units.map((u) => u.item),
      { attempt },
    );
    if (results.length !== units.length) throw new Error(`processBatch returned ${results.length} results for ${units.length} items`);
    stats.transactions++;
    return results;
  }

  // Cross-partition group commit: a single flusher applies what every partition queued.
  interface Pending {
    units: Unit[];
    unit: string;
    resolve(r: { results: ItemResult[]; attempts: number }): void;
    reject(e: unknown): void;
  }
  const queue: Pending[] = [];
  let flushing = false;
  let timer: NodeJS.Timeout | null = null;

  function submit(units: Unit[], unit: string): Promise<{ results: ItemResult[]; attempts: number }> {
    if (!options.groupCommit) return applyWithRetries(units, unit);
    return new Promise((resolve, reject) => {
      queue.push({ units, unit, resolve, reject });
      schedule();
    });
  }

  function schedule(): void {
    if (flushing || timer) return;
    const queued = queue.reduce((n, p) => n + p.units.length, 0);
    if (queued >= chunkSize) void flush();
    else timer = setTimeout(() => void flush(), options.groupCommit?.lingerMs ?? 0);
  }

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    if (flushing || queue.length === 0) return;
    flushing = true;
    const taken: Pending[] = [];
    let size = 0;
    for (let p = queue[0]; p !== undefined && (taken.length === 0 || size + p.units.length <= chunkSize); p = queue[0]) {
      queue.shift();
      taken.push(p);
      size += p.units.length;
    }
    try {
      const { results, attempts } = await applyWithRetries(
        taken.flatMap((p) => p.units),
        'group-commit',
      );
      let k = 0;
      for (const p of taken) {
        p.resolve({ results: results.slice(k, k + p.units.length), attempts });
        k += p.units.length;
      }
    } catch (e) {
      for (const p of taken) p.reject(e);
    } finally {
      flushing = false;
      if (queue.length > 0) void flush();
    }
  }

  /** Awaits `work` while heartbeating, so a long outage does not cost the partition. */
  async function withHeartbeat<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    let done = false;
    const beat = (async () => {
      while (!done) {
        await sleep(1_000);
        if (!done) await heartbeat().catch(() => undefined);
      }
    })();
    try {
      return await work;
    } finally {
      done = true;
      void beat;
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    groupCommit = payload.commitOffsetsIfNecessary;
    try {
      await eachBatchInner(payload);
    } catch (e) {
      // Stopped while waiting for the infrastructure: what is unresolved is redelivered.
      if (!(e instanceof Stopping)) throw e;
    } finally {
      // Stopping: everything processed is committed before kafkajs leaves the group.
      const draining = stopping.signal.aborted || !payload.isRunning();
      await (draining ? committer.flush() : committer.afterBatch()).catch(() => undefined);
    }
  }

  async function eachBatchInner({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const topic = names.logical(batch.topic);
    const partition = batch.partition;
    const unitName = `${topic}/${partition}`;
    const high = Number(batch.highWatermark);
    let chunk: Unit[] = [];
    /** Unaccepted messages after the last chunk: acknowledged without a transaction. */
    let trailing: KafkaMessage | null = null;
    let keys = new Set<string>();
    const stopRequested = () => !options.drainBatchOnStop && (!isRunning() || stopping.signal.aborted);

    const settle = (lastOffset: string) => {
      resolveOffset(lastOffset);
      committer.processed(batch.topic, partition, lastOffset);
      metrics.lag.set({ group, topic, partition: String(partition) }, Math.max(0, high - Number(lastOffset) - 1));
      options.onCommitted?.(topic, partition, lastOffset, batch.highWatermark);
    };

    /** Applies the chunk; false when stopping (the chunk stays unresolved and is redelivered). */
    const flushChunk = async (): Promise<boolean> => {
      if (chunk.length === 0) {
        if (trailing) settle(trailing.offset);
        trailing = null;
        return true;
      }
      const units = chunk;
      const last = trailing ?? units[units.length - 1].message;
      chunk = [];
      keys = new Set();
      trailing = null;
      // Batch mode: one span per chunk, child of its first message's trace (handler mode has one per message).
      const span = options.batchSpans === false ? trace.wrapSpanContext(INVALID_SPAN_CONTEXT) : tracer.startSpan(`consume ${topic}`, {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.consumer.group.name': group,
          'messaging.destination.partition.id': String(partition),
          'messaging.batch.message_count': units.length,
          'messaging.kafka.offset': Number(units[0].message.offset),
        },
      }, contextFromHeaders(units[0].item.headers));
      try {
        const { results, attempts } = await withHeartbeat(submit(units, unitName), heartbeat);
        let applied = 0;
        let duplicates = 0;
        for (const [i, r] of results.entries()) {
          if (r.kind === 'done') applied++;
          else if (r.kind === 'duplicate') duplicates++;
          else {
            span.recordException(r.error as Error);
            await deadLetter(units[i].message, topic, partition, r.attempts ?? attempts, r.error);
          }
        }
        stats.applied += applied;
        stats.duplicates += duplicates;
        if (applied) metrics.processed.inc({ group, topic }, applied);
        if (duplicates) metrics.duplicates.inc({ group, topic }, duplicates);
        settle(last.offset);
        await heartbeat();
        return true;
      } catch (e) {
        if (e instanceof Stopping) return false;
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
        throw e;
      } finally {
        span.end();
      }
    };

    for (const message of batch.messages) {
      if (isStale()) return;
      if (options.paused?.()) return;
      if (stopRequested()) break;
      if (acceptType) {
        const type = message.headers?.[Headers.type];
        if (type !== undefined && !acceptType(typeof type === 'string' ? type : Array.isArray(type) ? String(type[0]) : type.toString('utf8'), topic)) {
          if (chunk.length === 0 && !trailing) settle(message.offset);
          else trailing = message;
          continue;
        }
      }
      let envelope: EventEnvelope;
      try {
        envelope = decodeEnvelope(message.value);
      } catch (e) {
        // A message that cannot be read never will be: dead-lettered after one try.
        if (!(await flushChunk())) return;
        stats.undecodable++;
        await deadLetter(message, topic, partition, 1, e);
        settle(message.offset);
        continue;
      }
      if (!accept(envelope, topic)) {
        if (chunk.length === 0 && !trailing) settle(message.offset);
        else trailing = message;
        continue;
      }
      const key = message.key?.toString('utf8') ?? '';
      if (keysApart && keys.has(key) && !(await flushChunk())) return;
      // What was skipped before this message is resolved with the chunk.
      trailing = null;
      chunk.push({ message, item: { envelope, topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers: readHeaders(message.headers) } });
      if (keysApart) keys.add(key);
      if (chunk.length >= chunkSize && !(await flushChunk())) return;
    }
    // Stopping: the chunk not yet applied stays unresolved and is redelivered to the next owner.
    if (!isStale() && !stopRequested()) {
      await flushChunk();
    }
  }

  const join = (async () => {
    if (ownPublisher) await retryInfrastructure('dlq-publisher', () => ownPublisher.connect());
    if (stopping.signal.aborted) return;
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((t) => names.physical(t)), fromBeginning: options.fromBeginning ?? true });
    if (stopping.signal.aborted) return;
    await consumer.run({
      // Offsets are committed by the OffsetCommitter (at most every commitIntervalMs), not after every batch.
      autoCommit: false,
      // Offsets are resolved after the transaction that applied them committed.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
  })();

  let stopped: Promise<void> | null = null;
  const handle: ConsumerHandle = {
    groupId: group,
    consumer,
    stats,
    joined: join,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        committer.close(); // no more timer commits; the flushes below still go
        // At once, even while the group is still being joined in the background: kafkajs waits
        // for the batch in hand (which commits what it processed, see eachBatch) and sends LeaveGroup.
        const deadline = options.stopTimeoutMs ?? 5_000;
        const left = await withinDeadline(
          (async () => {
            // What earlier batches processed and the timer has not committed yet.
            await committer.flush().catch(() => undefined);
            await consumer.disconnect();
            await join.catch(() => undefined);
          })(),
          deadline,
        );
        if (!left) logger.warn('consumer did not leave its group in time; stopping without waiting (unresolved messages are redelivered)', { group, deadlineMs: deadline });
        await withinDeadline(ownPublisher?.disconnect() ?? Promise.resolve(), deadline);
        stopAdapting?.();
        forgetReadiness(component);
      })();
      return stopped;
    },
  };
  // A consumer that never started leaves no adaptation behind (a retried start registers again).
  join.catch(() => stopAdapting?.());
  if (options.awaitJoin ?? true) {
    try {
      await join;
    } catch (e) {
      // The caller gets no handle: disconnect the consumer and the dead-letter publisher here, or
      // every retried start would leave one of each connected.
      await handle.stop().catch(() => undefined);
      throw e;
    }
  } else
    join.catch((e: unknown) => {
      logger.error('consumer failed to start', { group, error: errorMessage(e) });
      if (stopping.signal.aborted) return;
      reportReadiness(component, false, `failed to start: ${errorMessage(e)}`);
      options.onFatal?.(e);
      if (options.restartProcessOnFatal ?? true) reportFatal(component, e);
    });
  return handle;
}

/** true when `work` settled within `ms`; false when the deadline came first (the work goes on unawaited). */
export async function withinDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true, () => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
