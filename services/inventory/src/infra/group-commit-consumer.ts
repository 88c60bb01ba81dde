import { runBatchConsumer, type BackoffOptions, type BatchItem, type ConsumerHandle, type ItemResult, type MessagingLogger } from '@flowline/messaging';
import type { Kafka } from 'kafkajs';

export type { BatchItem, ItemResult };

export interface GroupCommitConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** Logical topics. */
  topics: string[];
  topicPrefix?: string;
  /**
   * Applies items in ONE database transaction (with the inbox claims) and says per item what
   * became of it. Throw to roll the whole batch back: an unreachable database is retried without
   * limit; any other failure splits the batch and retries item by item.
   */
  processBatch(items: BatchItem[]): Promise<ItemResult[]>;
  /** Most items per transaction (default 1000). */
  maxBatchSize?: number;
  /** How long the first item waits for company before a transaction starts (default 2 ms). */
  lingerMs?: number;
  /** Partitions fetched and handed over in parallel (default 12): their messages share transactions. */
  partitionsConsumedConcurrently?: number;
  /** Retries of one item failing on its content before it is dead-lettered (default 3). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  fromBeginning?: boolean;
  sessionTimeout?: number;
  logger?: MessagingLogger;
  /** False: start() returns once subscribed; the group is joined in the background. */
  awaitJoin?: boolean;
  onFatal?: (error: unknown) => void;
}

/**
 * Inventory's command consumer: the one consumer loop of @flowline/messaging in its cross-partition
 * group-commit mode. Every partition's batch is queued; one flusher applies up to `maxBatchSize`
 * queued messages in one transaction, so a hot SKU's row lock is taken once per few hundred
 * reservations (ADR 0005), while the inbox in the same transaction keeps redelivery harmless.
 */
export class GroupCommitConsumer {
  private handle: ConsumerHandle | null = null;
  private stopped: Promise<void> | null = null;

  constructor(private readonly o: GroupCommitConsumerOptions) {}

  /** Transactions run, items applied and dead letters (for metrics and the benchmark). */
  get stats(): { transactions: number; items: number; deadLetters: number } {
    const s = this.handle?.stats;
    return { transactions: s?.transactions ?? 0, items: s ? s.applied + s.duplicates + s.deadLettered : 0, deadLetters: s?.deadLettered ?? 0 };
  }

  get consumer() {
    return this.handle?.consumer;
  }

  async start(): Promise<void> {
    this.handle = await runBatchConsumer({
      kafka: this.o.kafka,
      groupId: this.o.groupId,
      topics: this.o.topics,
      topicPrefix: this.o.topicPrefix ?? '',
      processBatch: (items) => this.o.processBatch(items),
      maxMessages: this.o.maxBatchSize ?? 1000,
      groupCommit: { lingerMs: this.o.lingerMs ?? 2 },
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 12,
      maxRetries: this.o.maxRetries ?? 3,
      backoff: this.o.backoff ?? { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 },
      fromBeginning: this.o.fromBeginning ?? true,
      sessionTimeout: this.o.sessionTimeout ?? 30_000,
      // A fetch answers as soon as one byte is there (minBytes 1), so the wait only bounds an
      // idle fetch: 1 s keeps an idle consumer to one fetch a second (100 ms cost ~10 fetches/s
      // of broker and kafkajs CPU per consumer for nothing) at no cost in latency.
      maxWaitTimeInMs: 1_000,
      ...(this.o.logger ? { logger: this.o.logger } : {}),
      ...(this.o.onFatal ? { onFatal: this.o.onFatal } : {}),
      awaitJoin: this.o.awaitJoin ?? true,
    });
  }

  /** Finishes the transaction in hand, commits its offsets and leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= this.handle?.stop() ?? Promise.resolve();
    return this.stopped;
  }
}
