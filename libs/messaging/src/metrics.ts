import { Counter, Gauge, register, type CounterConfiguration, type GaugeConfiguration } from 'prom-client';

/*
 * Metrics live in prom-client's default registry. Getters reuse a metric that is already
 * registered (tests and hot reloads import this module more than once).
 */

function counter<T extends string>(config: CounterConfiguration<T>): Counter<T> {
  return (register.getSingleMetric(config.name) as Counter<T> | undefined) ?? new Counter(config);
}

export function gauge<T extends string>(config: GaugeConfiguration<T>): Gauge<T> {
  return (register.getSingleMetric(config.name) as Gauge<T> | undefined) ?? new Gauge(config);
}

/** What the lag gauge needs from a running relay. */
export interface LagSource {
  readonly name: string;
  lag(): Promise<{ events: number; seconds: number }>;
}

const RELAYS = Symbol.for('flowline.messaging.relays');

/** Relays of this process (kept on globalThis: the gauge may come from another copy of this module). */
export function activeRelays(): Set<LagSource> {
  const g = globalThis as unknown as Record<symbol, Set<LagSource> | undefined>;
  return (g[RELAYS] ??= new Set());
}

export const relayMetrics = {
  published: () =>
    counter({ name: 'flowline_relay_published_total', help: 'Messages the relay published and the broker acknowledged', labelNames: ['relay', 'topic'] as const }),
  skipped: () =>
    counter({ name: 'flowline_relay_skipped_total', help: 'Stored events the relay route mapped to no message', labelNames: ['relay'] as const }),
  parked: () =>
    counter({ name: 'flowline_relay_parked_total', help: 'Stored events the relay could not route, parked in <topic>.dlq (alert on any increase)', labelNames: ['relay', 'type'] as const }),
  publishFailures: () =>
    counter({ name: 'flowline_relay_publish_failures_total', help: 'Failed publish attempts (retried)', labelNames: ['relay'] as const }),
  lagEvents: () =>
    gauge({
      name: 'flowline_relay_lag_events',
      help: 'Events in the log after the relay checkpoint (capped by the probe limit)',
      labelNames: ['relay'] as const,
      // Measured on scrape, so an idle process costs nothing.
      async collect() {
        for (const relay of activeRelays()) {
          const lag = await relay.lag().catch(() => null);
          if (lag) {
            this.set({ relay: relay.name }, lag.events);
            relayMetrics.lagSeconds().set({ relay: relay.name }, lag.seconds);
          }
        }
      },
    }),
  lagSeconds: () =>
    gauge({ name: 'flowline_relay_lag_seconds', help: 'Age of the oldest event not yet published (0 when caught up); measured with flowline_relay_lag_events', labelNames: ['relay'] as const }),
};

export const consumerMetrics = {
  processed: () =>
    counter({ name: 'flowline_consumer_processed_total', help: 'Messages handled and committed to the inbox', labelNames: ['group', 'topic'] as const }),
  duplicates: () =>
    counter({ name: 'flowline_consumer_duplicates_total', help: 'Redelivered messages skipped by the inbox', labelNames: ['group', 'topic'] as const }),
  retries: () =>
    counter({ name: 'flowline_consumer_retries_total', help: 'Handler attempts that failed and were retried', labelNames: ['group', 'topic'] as const }),
  deadLetters: () =>
    counter({ name: 'flowline_consumer_dead_letters_total', help: 'Messages sent to the dead-letter topic', labelNames: ['group', 'topic'] as const }),
  lag: () =>
    gauge({ name: 'flowline_consumer_lag', help: 'Messages behind the partition high watermark', labelNames: ['group', 'topic', 'partition'] as const }),
};
