import {
  runBatchConsumer as runConsumerLoop,
  type BackoffOptions,
  type ConsumerStats,
  type EventPublisher,
  type ItemResult,
  type MessagingLogger,
  type SqlQueryable,
  type TopicNames,
  type TransactionRunner,
} from '@flowline/messaging';
import type { Consumer, Kafka } from 'kafkajs';
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
  /**
   * The chunks of partitions handled concurrently share one transaction (the first waits at most
   * `lingerMs` for company): fewer commits when several partitions carry a little each (issue #10).
   */
  groupCommit?: { lingerMs: number };
  /** A fetch waits up to `maxWaitMs` (default 250) for `minBytes` (default 1: answer with whatever is there). */
  fetch?: { minBytes: number; maxWaitMs: number };
  fromBeginning?: boolean;
  /** Retries of a message failing on its content before it is dead-lettered (default 4). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Where a message that keeps failing goes (`<topic>.dlq`); null: skip it (rebuilds, which report a count). */
  deadLetters: EventPublisher | null;
  /** While true, batches are left unapplied and unresolved (a rebuild's swap freezes its replay). */
  paused?: () => boolean;
  /** Called after each committed chunk with the last offset it covered. */
  onCommitted?: (topic: string, partition: number, lastOffset: string, highWatermark: string) => void;
  logger?: MessagingLogger;
  /** false for a rebuild's replay: its consumer giving up must not restart the live service (default true). */
  restartProcessOnFatal?: boolean;
}

export interface BatchConsumerHandle {
  readonly consumer: Consumer;
  readonly stats: { applied: number; duplicates: number; undecodable: number; deadLettered: number; retries: number; transactions: number };
  /** Finishes the chunk in hand, commits resolved offsets and leaves the group. */
  stop(): Promise<void>;
}

/**
 * Tracking's projector on the one consumer loop of @flowline/messaging (`runBatchConsumer`): each
 * fetched partition batch is projected in a few large transactions, the inbox claim and the rows
 * committing together; offsets are resolved only after the commit. An unreachable database is
 * waited for (readiness red, nothing dead-lettered); a message failing on its content is isolated
 * and dead-lettered while the partition keeps flowing. One commit per chunk is what makes replay
 * fast: a commit waits for a WAL flush.
 */
export async function runBatchConsumer<Tx extends SqlQueryable>(options: BatchConsumerOptions<Tx>): Promise<BatchConsumerHandle> {
  const counts = { applied: 0, duplicates: 0 };
  const handle = await runConsumerLoop({
    kafka: options.kafka,
    groupId: options.groupId,
    topics: options.topics,
    topicPrefix: options.names.prefix,
    partitionsConsumedConcurrently: options.concurrency ?? 4,
    maxMessages: options.maxChunk ?? 1_000,
    ...(options.groupCommit ? { groupCommit: options.groupCommit } : {}),
    fromBeginning: options.fromBeginning ?? true,
    maxRetries: options.maxRetries ?? 4,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    deadLetterPublisher: options.deadLetters,
    maxWaitTimeInMs: options.fetch?.maxWaitMs ?? 250,
    ...(options.fetch ? { minBytes: options.fetch.minBytes } : {}),
    maxBytesPerPartition: 4 * 1024 * 1024,
    ...(options.paused ? { paused: options.paused } : {}),
    ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    // The group is joined in the background: a restarted service serves before the rebalance.
    awaitJoin: false,
    restartProcessOnFatal: options.restartProcessOnFatal ?? true,
    processBatch: async (items) => {
      const positioned: PositionedEvent[] = items.map((i) => ({
        event: asTrackedEvent(i.envelope),
        eventId: i.envelope.eventId,
        occurredAt: i.envelope.occurredAt,
        position: { topic: i.topic, partition: i.partition, offset: i.offset },
      }));
      const r = await options.transactions.run((tx) => options.apply(tx, positioned));
      counts.applied += r.applied;
      counts.duplicates += r.duplicates;
      return items.map((): ItemResult => ({ kind: 'done' }));
    },
  });
  const loop: ConsumerStats = handle.stats;
  return {
    consumer: handle.consumer,
    stats: {
      get applied() {
        return counts.applied;
      },
      get duplicates() {
        return counts.duplicates;
      },
      get undecodable() {
        return loop.undecodable;
      },
      get deadLettered() {
        return loop.deadLettered;
      },
      get retries() {
        return loop.retries + loop.infrastructureRetries;
      },
      /** Committed projection transactions (one per chunk or group commit). */
      get transactions() {
        return loop.transactions;
      },
    },
    stop: () => handle.stop(),
  };
}
