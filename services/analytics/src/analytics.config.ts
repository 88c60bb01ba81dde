import { messagingConfigFromEnv } from '@flowline/messaging';

/** Analytics' settings, read once from the environment (see README "Environment"). */
export interface AnalyticsConfig {
  /** Consumer group of the live projector (`ANALYTICS_CONSUMER_GROUP`, default `<KAFKA_TOPIC_PREFIX>analytics-projector`). */
  consumerGroup: string;
  /** Partitions applied in parallel by this process (`ANALYTICS_CONSUMER_CONCURRENCY`, default 4). */
  consumerConcurrency: number;
  topicPrefix: string;
  topicPartitions: number;
  /** Whether the live consumer starts with the service (`ANALYTICS_CONSUME`, default true). */
  consume: boolean;
  /** IANA zone in which days, hours and weekdays are counted (`ANALYTICS_TIMEZONE`, default Asia/Shanghai). */
  timeZone: string;
}

export function analyticsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig {
  const messaging = messagingConfigFromEnv(env);
  const concurrency = Number(env.ANALYTICS_CONSUMER_CONCURRENCY ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('ANALYTICS_CONSUMER_CONCURRENCY must be a positive integer');
  return {
    consumerGroup: env.ANALYTICS_CONSUMER_GROUP?.trim() || `${messaging.topicPrefix}analytics-projector`,
    consumerConcurrency: concurrency,
    topicPrefix: messaging.topicPrefix,
    topicPartitions: messaging.partitions,
    consume: env.ANALYTICS_CONSUME !== 'false',
    timeZone: env.ANALYTICS_TIMEZONE?.trim() || 'Asia/Shanghai',
  };
}

export const ANALYTICS_CONFIG = Symbol('ANALYTICS_CONFIG');
