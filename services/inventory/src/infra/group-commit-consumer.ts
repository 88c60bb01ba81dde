import type { EventEnvelope } from '@flowline/contracts';
import {
  backoffDelay,
  deadLetterHeaders,
  decodeEnvelope,
  errorMessage,
  EventPublisher,
  readHeaders,
  sleep,
  stderrLogger,
  TopicNames,
  type BackoffOptions,
  type MessagingLogger,
} from '@flowline/messaging';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';

/** One decoded message handed to the batch processor. */
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
 * What became of one item: applied (or skipped), or to be dead-lettered with the reason.
 * `attempts` is how many transactions the item took part in (filled in by the consumer).
 */
export type ItemResult = { kind: 'done' } | { kind: 'dead-letter'; error: unknown; attempts?: number };

export interface GroupCommitConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** Logical topics. */
  topics: string[];
  topicPrefix?: string;
  /**
   * Applies items in ONE database transaction (with the inbox claims) and says per item what
   * became of it. Throw to roll the whole batch back; it is retried, then split.
   */
  processBatch(items: BatchItem[]): Promise<ItemResult[]>;
  /** Most items per transaction (default 1000). */
  maxBatchSize?: number;
  /** How long the first item waits for company before a transaction starts (default 2 ms). */
  lingerMs?: number;
  /** Partitions fetched and handed over in parallel (default 12): their messages share transactions. */
  partitionsConsumedConcurrently?: number;
  /** Retries of a failing batch before it is split item by item (default 3); the same for one item before it is dead-lettered. */
  maxRetries?: number;
  backoff?: BackoffOptions;
  fromBeginning?: boolean;
  sessionTimeout?: number;
  logger?: MessagingLogger;
}

interface Pending {
  items: BatchItem[];
  resolve(results: ItemResult[]): void;
  reject(error: unknown): void;
}

/**
 * A Kafka consumer that commits many messages per database transaction (group commit).
 *
 * kafkajs hands each partition's batch to `eachBatch`, several partitions at once; every call
 * drops its messages into one queue and waits. A single flusher takes up to `maxBatchSize`
 * queued messages (whole partition batches, in offset order), applies them in one transaction
 * and answers every waiter; offsets are resolved only after that transaction committed. So a hot
 * SKU's row lock is taken once per few hundred reservations instead of once per reservation
 * (ADR 0005), while the inbox in the same transaction keeps redelivery harmless.
 */
export class GroupCommitConsumer {
  readonly consumer: Consumer;
  private readonly names: TopicNames;
  private readonly logger: MessagingLogger;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly maxRetries: number;
  private readonly backoff: BackoffOptions;
  private readonly dlq: EventPublisher;
  private queue: Pending[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | null = null;
  /** Transactions run and items applied (for metrics and the benchmark). */
  readonly stats = { transactions: 0, items: 0, deadLetters: 0 };

  constructor(private readonly o: GroupCommitConsumerOptions) {
    this.names = new TopicNames(o.topicPrefix ?? '');
    this.logger = o.logger ?? stderrLogger;
    this.maxBatch = o.maxBatchSize ?? 1000;
    this.lingerMs = o.lingerMs ?? 2;
    this.maxRetries = o.maxRetries ?? 3;
    this.backoff = o.backoff ?? { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 };
    this.dlq = new EventPublisher({ kafka: o.kafka, topicPrefix: this.names.prefix });
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: o.sessionTimeout ?? 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
    });
  }

  async start(): Promise<void> {
    await this.dlq.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.o.topics.map((t) => this.names.physical(t)), fromBeginning: this.o.fromBeginning ?? true });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.logger.error('inventory consumer crashed', { group: this.o.groupId, error: errorMessage(e.payload.error), restart: e.payload.restart });
    });
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 12,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes the transaction in hand, commits its offsets and leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      await this.consumer.disconnect();
      await this.dlq.disconnect();
    })();
    return this.stopped;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const topic = this.names.logical(batch.topic);
    const items: BatchItem[] = [];
    const undecodable: { message: KafkaMessage; error: unknown }[] = [];
    for (const message of batch.messages) {
      try {
        items.push({
          envelope: decodeEnvelope(message.value),
          topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          headers: readHeaders(message.headers),
        });
      } catch (error) {
        undecodable.push({ message, error });
      }
    }
    // Tried once: decoding fails the same way on every try, so it is never retried.
    for (const u of undecodable) await this.deadLetter(u.message, topic, batch.partition, u.error, 1);
    for (let i = 0; i < items.length && isRunning() && !isStale(); i += this.maxBatch) {
      const chunk = items.slice(i, i + this.maxBatch);
      const results = await this.submit(chunk);
      for (const [j, r] of results.entries()) {
        if (r.kind === 'dead-letter') {
          const m = batch.messages.find((x) => x.offset === chunk[j].offset)!;
          await this.deadLetter(m, topic, batch.partition, r.error, r.attempts ?? 1);
        }
      }
      resolveOffset(chunk[chunk.length - 1].offset);
      await heartbeat();
    }
    // Undecodable messages at the end of a batch still move the offset on.
    if (items.length === 0 && undecodable.length > 0) resolveOffset(batch.messages[batch.messages.length - 1].offset);
  }

  private submit(items: BatchItem[]): Promise<ItemResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.timer) return;
    const queued = this.queue.reduce((n, p) => n + p.items.length, 0);
    if (queued >= this.maxBatch) void this.flush();
    else this.timer = setTimeout(() => void this.flush(), this.lingerMs);
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const taken: Pending[] = [];
    let size = 0;
    while (this.queue.length > 0 && (taken.length === 0 || size + this.queue[0].items.length <= this.maxBatch)) {
      const p = this.queue.shift()!;
      taken.push(p);
      size += p.items.length;
    }
    try {
      const all = taken.flatMap((p) => p.items);
      const results = await this.applyWithRetries(all);
      let k = 0;
      for (const p of taken) {
        p.resolve(results.slice(k, k + p.items.length));
        k += p.items.length;
      }
    } catch (e) {
      for (const p of taken) p.reject(e);
    } finally {
      this.flushing = false;
      // Whatever queued up meanwhile goes at once: it has waited a whole transaction already.
      if (this.queue.length > 0) void this.flush();
    }
  }

  /** `tried`: transactions these items already took part in (as members of a larger batch that failed). */
  private async applyWithRetries(items: BatchItem[], tried = 0): Promise<ItemResult[]> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      try {
        const results = await this.o.processBatch(items);
        this.stats.transactions++;
        this.stats.items += items.length;
        return results.map((r) => (r.kind === 'dead-letter' ? { ...r, attempts: tried + attempt + 1 } : r));
      } catch (e) {
        lastError = e;
        this.logger.warn('inventory batch failed', { group: this.o.groupId, items: items.length, attempt: attempt + 1, error: errorMessage(e) });
        if (this.stopping.signal.aborted) throw e;
        await sleep(backoffDelay(attempt, this.backoff), this.stopping.signal);
      }
    }
    const tries = tried + this.maxRetries + 1;
    if (items.length === 1) return [{ kind: 'dead-letter', error: lastError, attempts: tries }];
    // One bad message must not hold the others back: apply them one by one.
    const results: ItemResult[] = [];
    for (const item of items) results.push(...(await this.applyWithRetries([item], tries)));
    return results;
  }

  private async deadLetter(message: KafkaMessage, topic: string, partition: number, error: unknown, attempts: number): Promise<void> {
    const headers = deadLetterHeaders(message, { physicalTopic: this.names.physical(topic), partition, attempts, group: this.o.groupId, error });
    await this.dlq.publishRaw([{ topic: this.names.deadLetter(topic), key: message.key, value: message.value, headers }]);
    this.stats.deadLetters++;
    this.logger.warn('inventory command dead-lettered', { group: this.o.groupId, topic, partition, offset: message.offset, error: errorMessage(error) });
  }
}
