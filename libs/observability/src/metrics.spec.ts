import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { defineCounter, defineGauge, defineHistogram, ensureDefaultMetrics, metricsText } from './metrics';

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
});
