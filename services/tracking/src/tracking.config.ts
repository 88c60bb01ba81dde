import { messagingConfigFromEnv } from '@flowline/messaging';
import { parseDuration, slaConfigFromEnv, type SlaConfig } from './domain/sla';

/** Tracking's settings, read once from the environment (see README "Environment"). */
export interface TrackingConfig {
  sla: SlaConfig;
  /** Consumer group of the live projector (`TRACKING_CONSUMER_GROUP`, default `<KAFKA_TOPIC_PREFIX>tracking-projector`). */
  consumerGroup: string;
  /** Partitions applied in parallel by this process (`TRACKING_CONSUMER_CONCURRENCY`, default 4). */
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
  const concurrency = Number(env.TRACKING_CONSUMER_CONCURRENCY ?? 4);
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
