import { defineCounter, defineHistogram } from '@flowline/observability';

/** Prometheus metrics of delivery (served on /metrics). */
export function notificationMetrics() {
  const attempts = defineCounter<'channel' | 'outcome'>({
    name: 'flowline_notification_attempts_total',
    help: 'Delivery attempts by channel and outcome (sent, delivered, retry, failed, dead)',
    labelNames: ['channel', 'outcome'],
  });
  const seconds = defineHistogram<'channel'>({
    name: 'flowline_notification_send_seconds',
    help: 'Time an adapter took to send one message',
    labelNames: ['channel'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return {
    attempt(channel: string, outcome: string): void {
      attempts.inc({ channel, outcome });
    },
    sent(channel: string, s: number): void {
      seconds.observe({ channel }, s);
    },
  };
}
