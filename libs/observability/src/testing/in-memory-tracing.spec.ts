import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { installInMemoryTracing } from './in-memory-tracing';

describe('installInMemoryTracing', () => {
  // Created before tracing is installed, like a server whose framework loaded `http` first.
  const server = http.createServer((_req, res) => {
    res.end('ok');
  });
  let url = '';

  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('records a server span for an HTTP request, even on a server created before it was installed', async () => {
    const exporter = installInMemoryTracing();
    const res = await fetch(`${url}/orders/42`);
    expect(await res.text()).toBe('ok');
    await expect.poll(() => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).length).toBe(1);
  });

  it('leaves health probes untraced', async () => {
    const exporter = installInMemoryTracing();
    await (await fetch(`${url}/health/live`)).text();
    await (await fetch(`${url}/orders/1`)).text();
    await expect.poll(() => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).length).toBe(1);
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(JSON.stringify(server?.attributes)).toContain('/orders/1');
  });

  it('returns the same exporter, cleared, when installed again', () => {
    const first = installInMemoryTracing();
    trace.getTracer('t').startSpan('x').end();
    expect(first.getFinishedSpans()).toHaveLength(1);
    const second = installInMemoryTracing();
    expect(second).toBe(first);
    expect(second.getFinishedSpans()).toHaveLength(0);
  });

  it('keeps the active span across awaits and injects a W3C traceparent', async () => {
    const exporter = installInMemoryTracing();
    const tracer = trace.getTracer('test');
    const carrier: Record<string, string> = {};
    await tracer.startActiveSpan('parent', async (parent) => {
      await new Promise((r) => setTimeout(r, 5));
      tracer.startSpan('child').end();
      propagation.inject(context.active(), carrier);
      parent.end();
    });
    const [child, parent] = exporter.getFinishedSpans();
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(carrier.traceparent).toBe(`00-${parent.spanContext().traceId}-${parent.spanContext().spanId}-01`);
  });

  it('mixes trace_id and span_id of the active span into log lines', () => {
    installInMemoryTracing();
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const logger = createLogger({ serviceName: 'svc', level: 'info', destination });
    logger.info('outside');
    const span = trace.getTracer('test').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => logger.child({ part: 'x' }).info('inside'));
    span.end();
    expect(lines[0]).toMatchObject({ msg: 'outside', service: 'svc', level: 'info' });
    expect(lines[0].trace_id).toBeUndefined();
    expect(lines[1]).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
  });
});
