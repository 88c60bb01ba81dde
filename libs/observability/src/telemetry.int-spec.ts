import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');

/** A stand-in OTLP/HTTP collector on loopback: records every request body it gets. */
async function fakeCollector() {
  const received: { path: string; contentType: string; body: Buffer }[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('startTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let collector: Awaited<ReturnType<typeof fakeCollector>>;
  beforeAll(async () => {
    collector = await fakeCollector();
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('exports the server span of a traced request over OTLP/HTTP, flushed on SIGTERM', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/observability/test/fixtures/traced-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    await expect.poll(() => /port=(\d+)/.exec(out)?.[1], { timeout: 30_000 }).toBeTruthy();
    const port = /port=(\d+)/.exec(out)?.[1];

    const traceId = '5b8efff798038103d269b633813fc60c';
    const res = await fetch(`http://127.0.0.1:${port}/orders`, { headers: { traceparent: `00-${traceId}-eee19b7ec3c1b174-01` } });
    expect(await res.text()).toBe('ok');
    // Batch delay is a minute: only the flush on shutdown can have sent it.
    expect(collector.received).toHaveLength(0);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, out).toBe(0);
    const traces = collector.received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    // OTLP/HTTP carries trace ids as raw bytes (protobuf) or hex (JSON): accept either encoding.
    const bodies = Buffer.concat(traces.map((t) => t.body));
    const hasTrace = bodies.includes(Buffer.from(traceId, 'hex')) || bodies.toString().includes(traceId);
    expect(hasTrace, traces.map((t) => t.contentType).join(',')).toBe(true);
    expect(bodies.toString('latin1')).toContain('traced-fixture');
  });
});
