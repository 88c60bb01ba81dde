import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defineCounter, defineGauge, defineHistogram, ensureDefaultMetrics, eventLoopPrecisionMsFromEnv, metricsText } from './metrics';

describe('metric helpers', () => {
  it('returns the same counter when a metric is defined twice, so increments add up', async () => {
    const registry = new Registry();
    const a = defineCounter({ name: 'orders_placed_total', help: 'orders', labelNames: ['channel'], registers: [registry] });
    const b = defineCounter({ name: 'orders_placed_total', help: 'orders', labelNames: ['channel'], registers: [registry] });
    expect(b).toBe(a);
    a.inc({ channel: 'taobao' });
    b.inc({ channel: 'taobao' }, 2);
    const text = await registry.metrics();
    expect(text).toContain('orders_placed_total{channel="taobao"} 3');
  });

  it('refuses a name already taken by another kind of metric', () => {
    const registry = new Registry();
    defineGauge({ name: 'queue_depth', help: 'depth', registers: [registry] });
    expect(() => defineHistogram({ name: 'queue_depth', help: 'depth', registers: [registry] })).toThrow(/already registered as a Gauge/);
  });

  it('turns default process metrics on once per registry', async () => {
    const registry = new Registry();
    ensureDefaultMetrics(registry);
    expect(() => ensureDefaultMetrics(registry)).not.toThrow();
    const { contentType, body } = await metricsText(registry);
    expect(contentType).toContain('text/plain');
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_heap_size_used_bytes');
  });

  it('samples the event-loop delay every 100 ms unless METRICS_EVENT_LOOP_PRECISION_MS says otherwise; a bad value fails', () => {
    expect(eventLoopPrecisionMsFromEnv({})).toBe(100);
    expect(eventLoopPrecisionMsFromEnv({ METRICS_EVENT_LOOP_PRECISION_MS: '10' })).toBe(10);
    expect(() => eventLoopPrecisionMsFromEnv({ METRICS_EVENT_LOOP_PRECISION_MS: '0' })).toThrow(/METRICS_EVENT_LOOP_PRECISION_MS must be a positive integer/);
    expect(() => eventLoopPrecisionMsFromEnv({ METRICS_EVENT_LOOP_PRECISION_MS: 'fast' })).toThrow(/got "fast"/);
  });

  it('reports how late the loop was, not the 100 ms sampling interval: idle reads near 0, a 400 ms block reads as at least 200 ms', async () => {
    const registry = new Registry();
    ensureDefaultMetrics(registry);
    const gauge = (body: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1]);
    // Idle for several samples: prom-client alone would report about 0.1 s (the interval itself).
    await new Promise((r) => setTimeout(r, 650));
    const idle = (await metricsText(registry)).body;
    expect(gauge(idle, 'nodejs_eventloop_lag_p50_seconds')).toBeLessThan(0.05);
    expect(gauge(idle, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0);
    // A read resets the histogram, and Node records nothing for the first interval after a reset.
    await new Promise((r) => setTimeout(r, 250));
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // block the loop
    }
    await new Promise((r) => setTimeout(r, 250));
    const blocked = (await metricsText(registry)).body;
    expect(gauge(blocked, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.2);
  });
});
