import { messagingConfigFromEnv } from '@flowline/messaging';
import { parseDuration, slaConfigFromEnv, type SlaConfig } from './domain/sla';
import { TRACKED_TOPICS } from './projections/tracked-event';

/** Tracking's settings, read once from the environment (see README "Environment"). */
export interface TrackingConfig {
  sla: SlaConfig;
  /** Consumer group of the live projector (`TRACKING_CONSUMER_GROUP`, default `<KAFKA_TOPIC_PREFIX>tracking-projector`). */
  consumerGroup: string;
  /**
   * Partition batches the live projector handles at once (`TRACKING_CONSUMER_CONCURRENCY`, default
   * every partition of the tracked topics: 5 x KAFKA_TOPIC_PARTITIONS). They share one group-committed
   * transaction, so this bounds how many partitions of one fetch share a commit.
   */
  consumerConcurrency: number;
  /** Prefix of every topic name (`KAFKA_TOPIC_PREFIX`). */
  topicPrefix: string;
  /** Partitions of topics tracking creates when missing (`KAFKA_TOPIC_PARTITIONS`). */
  topicPartitions: number;
  /** How often the SLA clock job recomputes colours (`TRACKING_CLOCK_INTERVAL`, default 30s; 0 = off, ticks only on demand). */
  clockIntervalMs: number;
  /** Whether the live consumer starts with the service (`TRACKING_CONSUME`, default true). */
  consume: boolean;
}

export function trackingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  const messaging = messagingConfigFromEnv(env);
  // Issue #10: with 4 (the old default) of 5 x 12 partitions, the partitions of one fetch took 2.1-2.4
  // commits per order at 25 orders/s with each order's events spread over time; with all of them,
  // 0.53-0.63, and the hop to the board got shorter, not longer (p50 100 -> 61-76 ms).
  const concurrency = Number(env.TRACKING_CONSUMER_CONCURRENCY ?? Object.keys(TRACKED_TOPICS).length * messaging.partitions);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`TRACKING_CONSUMER_CONCURRENCY must be a positive integer`);
  return {
    sla: slaConfigFromEnv(env),
    // Prefixed like the topics, so that two environments sharing a broker never share a group.
    consumerGroup: env.TRACKING_CONSUMER_GROUP?.trim() || `${messaging.topicPrefix}tracking-projector`,
    consumerConcurrency: concurrency,
    topicPrefix: messaging.topicPrefix,
    topicPartitions: messaging.partitions,
    clockIntervalMs: env.TRACKING_CLOCK_INTERVAL ? parseDuration(env.TRACKING_CLOCK_INTERVAL) : 30_000,
    consume: env.TRACKING_CONSUME !== 'false',
  };
}

/** Injection token for TrackingConfig. */
export const TRACKING_CONFIG = Symbol('TRACKING_CONFIG');
