import { messagingConfigFromEnv } from '@flowline/messaging';
import type { RetryPolicy } from '../domain/delivery.policy';

export interface NotificationSettings {
  consumerGroup: string;
  topicPrefix: string;
  partitions: number;
  /** Consume events and relay notification events (off: API only). */
  consume: boolean;
  /** A new consumer group starts at the earliest offset (tests) instead of the latest (a new deployment must not message customers about history). */
  fromBeginning: boolean;
  relay: boolean;
  dispatchIntervalMs: number;
  retry: RetryPolicy;
  clock: 'system' | 'driven';
  dingtalkPerMinute: number;
}

const int = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);

export function notificationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationSettings {
  const m = messagingConfigFromEnv();
  return {
    consumerGroup: env.NOTIFICATION_CONSUMER_GROUP ?? 'notification',
    topicPrefix: m.topicPrefix,
    partitions: m.partitions,
    consume: env.NOTIFICATION_CONSUME !== '0',
    fromBeginning: env.NOTIFICATION_FROM_BEGINNING === '1',
    relay: env.NOTIFICATION_RELAY !== '0',
    dispatchIntervalMs: int(env.NOTIFICATION_DISPATCH_INTERVAL_MS, 500),
    retry: {
      maxAttempts: int(env.NOTIFICATION_MAX_ATTEMPTS, 6),
      initialMs: int(env.NOTIFICATION_RETRY_INITIAL_MS, 2_000),
      maxMs: int(env.NOTIFICATION_RETRY_MAX_MS, 300_000),
    },
    clock: env.NOTIFICATION_CLOCK === 'driven' ? 'driven' : 'system',
    dingtalkPerMinute: int(env.DINGTALK_PER_MINUTE, 20),
  };
}
