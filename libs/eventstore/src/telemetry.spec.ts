import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from './in-memory/in-memory-event-store';
import type { NewEvent } from './port';
import { APPEND_LATENCY_METRIC, appendLatencyHistogram } from './telemetry';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

function event(traceparent?: string): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'OrderPlaced',
    data: {},
    metadata: { correlationId: 'c', causationId: null, occurredAt: '2026-05-01T00:00:00.000Z', ...(traceparent ? { traceparent } : {}) },
  };
}

describe('append telemetry', () => {
  it('wraps an append in an eventstore.append span carrying the stream id and event count', async () => {
    const store = new InMemoryEventStore();
    exporter.reset();
    await store.appendToStream('order-t1', [event(), event()]);
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'eventstore.append');
    expect(spans).toHaveLength(1);
    expect(spans[0].instrumentationScope.name).toBe('flowline-eventstore');
    expect(spans[0].attributes).toMatchObject({ 'eventstore.stream_id': 'order-t1', 'eventstore.event_count': 2 });
  });

  it('fills metadata.traceparent from the append span when the caller did not set one, and keeps a caller-set one', async () => {
    const store = new InMemoryEventStore();
    exporter.reset();
    const callerTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await trace.getTracer('test').startActiveSpan('http POST /orders', async (parent) => {
      await store.appendToStream('order-t2', [event(), event(callerTraceparent)]);
      parent.end();
    });
    const [filled, kept] = await store.readStream('order-t2');
    const appendSpan = exporter.getFinishedSpans().find((s) => s.name === 'eventstore.append');
    const ctx = appendSpan!.spanContext();
    expect(filled.metadata.traceparent).toBe(`00-${ctx.traceId}-${ctx.spanId}-01`);
    expect(kept.metadata.traceparent).toBe(callerTraceparent);
    const http = exporter.getFinishedSpans().find((s) => s.name === 'http POST /orders');
    expect(ctx.traceId).toBe(http!.spanContext().traceId);
  });

  it('records append latency in one histogram on the default registry, by outcome', async () => {
    expect(appendLatencyHistogram()).toBe(appendLatencyHistogram());
    const store = new InMemoryEventStore();
    await store.appendToStream('order-t3', [event()], { expectedRevision: 'no_stream' });
    await store.appendToStream('order-t3', [event()], { expectedRevision: 'no_stream' }).catch(() => undefined);
    expect(register.getSingleMetric(APPEND_LATENCY_METRIC)).toBe(appendLatencyHistogram());
    const metric = await appendLatencyHistogram().get();
    const count = (outcome: string) =>
      metric.values.find((v) => v.metricName === `${APPEND_LATENCY_METRIC}_count` && v.labels.adapter === 'in-memory' && v.labels.outcome === outcome)?.value ?? 0;
    expect(count('ok')).toBeGreaterThanOrEqual(1);
    expect(count('wrong_expected_version')).toBeGreaterThanOrEqual(1);
  });
});
