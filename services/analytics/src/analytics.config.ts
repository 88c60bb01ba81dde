import { messagingConfigFromEnv } from '@flowline/messaging';
import { DEFAULT_POLICY, type ReconciliationPolicy } from './domain/reconciliation';

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
  /** Expected platform fees per channel in basis points (`ANALYTICS_FEE_RATES_BPS`, JSON, merged over the defaults). */
  reconciliation: ReconciliationPolicy;
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
    reconciliation: { ...DEFAULT_POLICY, feeRateBps: { ...DEFAULT_POLICY.feeRateBps, ...feeRates(env.ANALYTICS_FEE_RATES_BPS) } },
  };
}

function feeRates(raw: string | undefined): Record<string, number> {
  if (!raw?.trim()) return {};
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  for (const [k, v] of Object.entries(parsed)) if (typeof v !== 'number' || v < 0) throw new Error(`ANALYTICS_FEE_RATES_BPS: ${k} must be a non-negative number of basis points`);
  return parsed as Record<string, number>;
}

export const ANALYTICS_CONFIG = Symbol('ANALYTICS_CONFIG');
