import { grpcHealthCheck, grpcListServices, startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Smoke test: the real main.ts boots as its own process, on its own database, and stops on SIGTERM.
describe(`${SERVICE.name} boots`, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: ServiceProcess | undefined;
  const running = (): ServiceProcess => {
    if (!svc) throw new Error('service did not start');
    return svc;
  };

  beforeAll(async () => {
    db = await createTestDatabase('boot_tracking');
    svc = await startServiceProcess({ service: SERVICE.name, env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), LOG_LEVEL: 'info' } });
  });

  afterAll(async () => {
    await svc?.stop('SIGKILL');
    await db?.drop();
  });

  it('is live and ready (its database and Kafka answer)', async () => {
    expect((await fetch(`${running().httpUrl}/health/live`)).status).toBe(200);
    // Polled: on a loaded machine one probe can exceed its 2 s dependency timeout.
    await expect
      .poll(async () => (await fetch(`${running().httpUrl}/health/ready`)).json(), { timeout: 20_000, interval: 500 })
      .toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
  });

  it('serves /metrics and its OpenAPI document', async () => {
    expect(await (await fetch(`${running().httpUrl}/metrics`)).text()).toContain('process_cpu_user_seconds_total');
    const doc = (await (await fetch(`${running().httpUrl}/docs-json`)).json()) as { openapi: string; info: { title: string } };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toContain(SERVICE.name);
  });

  it('continues the caller\'s W3C trace and logs its trace_id (telemetry started in instrument.ts)', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${running().httpUrl}/docs-json`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    await expect.poll(() => running().output(), { timeout: 10_000 }).toContain(`"trace_id":"${traceId}"`);
  });

  it('serves gRPC with reflection and health on', async () => {
    expect(await grpcListServices(running().grpcAddress)).toEqual(expect.arrayContaining([GRPC_SERVICE, 'grpc.health.v1.Health']));
    expect(await grpcHealthCheck(running().grpcAddress, GRPC_SERVICE)).toBe('SERVING');
  });

  it('shuts down gracefully on SIGTERM: every shutdown hook runs before it exits', async () => {
    const exit = await running().stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(running().output()).toMatch(/"msg":"stopping \(SIGTERM\)[^\n]*\n(.*\n)*.*"msg":"stopped \(SIGTERM\) in \d+ ms"/);
  });
});
