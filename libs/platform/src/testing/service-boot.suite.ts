import { createTestDatabase, kafkaBrokers } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { grpcHealthCheck, grpcListServices } from './grpc-probe';
import { StrictReflectionClient } from './reflection-client';
import { startServiceProcess, type ServiceProcess } from './service-process';

export interface ServiceBootSuiteOptions {
  /** Folder under services/. */
  service: string;
  /** Fully-qualified gRPC service the process must expose, e.g. flowline.orders.v1.OrderService. */
  grpcService: string;
  /** Extra environment for the process (own topic prefix, consumer group...). */
  env?: () => Record<string, string>;
}

/**
 * Smoke suite every service runs: the real main.ts boots as its own process on its own database,
 * serves health, metrics, OpenAPI and gRPC (reflection + health), continues a caller's trace in
 * its logs, and stops gracefully on SIGTERM.
 */
export function serviceBootSuite(opts: ServiceBootSuiteOptions): void {
  describe(`${opts.service} boots`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let svc: ServiceProcess | undefined;
    const running = (): ServiceProcess => {
      if (!svc) throw new Error('service did not start');
      return svc;
    };

    beforeAll(async () => {
      db = await createTestDatabase(`boot_${opts.service.replace(/-/g, '_')}`);
      svc = await startServiceProcess({
        service: opts.service,
        // LOG_REQUEST_SAMPLE=1: every request line at info (by default only errors, 4xx and slow ones), so
        // the trace test below sees the line of its successful request.
        env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), LOG_LEVEL: 'info', LOG_REQUEST_SAMPLE: '1', ...(opts.env?.() ?? {}) },
      });
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
      expect(doc.info.title).toContain(opts.service);
    });

    it("continues the caller's W3C trace and logs its trace_id (telemetry started in instrument.ts)", async () => {
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      await fetch(`${running().httpUrl}/docs-json`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
      await expect.poll(() => running().output(), { timeout: 10_000 }).toContain(`"trace_id":"${traceId}"`);
    });

    it('serves gRPC with reflection and health on', async () => {
      expect(await grpcListServices(running().grpcAddress)).toEqual(expect.arrayContaining([opts.grpcService, 'grpc.health.v1.Health']));
      expect(await grpcHealthCheck(running().grpcAddress, opts.grpcService)).toBe('SERVING');
    });

    it('reflection is what strict clients need: only its own services, real file names, full imports; every RPC implemented', async () => {
      const client = new StrictReflectionClient(running().grpcAddress);
      try {
        expect((await client.listServices()).sort()).toEqual([opts.grpcService, 'grpc.health.v1.Health'].sort());
        const service = await client.describe(opts.grpcService);
        // orders/v1/orders.proto, not proto-loader's flattened flowline_orders_v1.proto
        expect(service.file.proto.name).toMatch(/^[a-z_]+\/v\d+\/[a-z0-9_]+\.proto$/);
        for (const dep of service.file.proto.dependency) expect(client.fileDescriptor(dep), dep).toBeDefined();
        // Each RPC answers an empty request with something other than UNIMPLEMENTED (a real
        // answer or a refusal): the port implements everything it advertises. Streams: first answer.
        const unimplemented: string[] = [];
        for (const method of service.methods) {
          const r = method.methodKind === 'server_streaming' ? await client.firstOfStream(method, {}, 2_000) : method.methodKind === 'unary' ? await client.call(method, {}) : undefined;
          if (r?.error?.code === GrpcStatus.UNIMPLEMENTED) unimplemented.push(method.name);
        }
        expect(unimplemented).toEqual([]);
      } finally {
        client.close();
      }
    });

    it('shuts down gracefully on SIGTERM: every shutdown hook runs before it exits', async () => {
      const exit = await running().stop('SIGTERM');
      // On failure the process's last output names the hook it was still in.
      expect(exit, running().output().slice(-6000)).toEqual({ code: 0, signal: null });
      expect(running().output()).toMatch(/"msg":"stopping \(SIGTERM\)[^\n]*\n(.*\n)*.*"msg":"stopped \(SIGTERM\) in \d+ ms"/);
    });
  });
}
