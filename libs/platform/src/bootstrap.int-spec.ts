import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, Module, Optional, Param, Post, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { SpanKind, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { DataSource } from 'typeorm';
import { DomainError } from '@flowline/domain';
import { installInMemoryTracing } from '@flowline/observability';
import { createTestDatabase, kafkaBrokers } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from './bootstrap';
import { PlatformModule, type PlatformModuleOptions } from './platform.module';
import { grpcClient, grpcFileContainingSymbol, grpcHealthCheck, grpcListServices, unary } from './testing/grpc-probe';
import { decodeRpcStatus } from './error-model';

process.env.LOG_LEVEL ??= 'warn';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const json = (res: Response) => res.json() as Promise<Json>;

class LineDto {
  @ApiProperty() @IsString() sku!: string;
  @ApiProperty() @IsInt() @Min(1) quantity!: number;
}

class PlaceThingDto {
  @ApiProperty() @IsString() @Length(1, 20) name!: string;
  @ApiProperty({ type: [LineDto] })
  @ValidateNested({ each: true })
  @ArrayMinSize(1)
  @Type(() => LineDto)
  lines!: LineDto[];
}

@Controller('things')
class ThingsController {
  // Optional: the app without a database (readiness without Kafka) has none.
  constructor(@Optional() private readonly dataSource?: DataSource) {}

  @Post()
  place(@Body() dto: PlaceThingDto) {
    if (dto.name === 'taken') throw new DomainError('thing_already_exists', `thing ${dto.name} exists`, { name: dto.name });
    return { name: dto.name, units: dto.lines.reduce((n, l) => n + l.quantity, 0), quantityType: typeof dto.lines[0].quantity };
  }

  @Get(':id')
  get(@Param('id') id: string) {
    throw new DomainError('thing_not_found', `no thing ${id}`, { id }, 'not_found');
  }

  /** Work inside a request, like an event store append: its span must be a child of the HTTP span. */
  @Post('traced')
  async traced() {
    return trace.getTracer('test').startActiveSpan('work', async (span) => {
      await new Promise((r) => setTimeout(r, 2));
      span.end();
      return { traceId: span.spanContext().traceId };
    });
  }

  /** Reads the database: what a request meets when PostgreSQL is away. */
  @Get('db/now')
  async now() {
    return (await this.dataSource?.query('SELECT now() AS now'))?.[0];
  }

  /** A bug: not a refusal, not a dependency. */
  @Get('db/bug')
  bug() {
    throw new TypeError("Cannot read properties of undefined (reading 'secret internals')");
  }

  @Post('invalid')
  invalid() {
    throw new DomainError('thing_invalid', 'a thing needs a colour', {}, 'invalid');
  }
}

/** Serves flowline.notification.v1 just to have a real package over gRPC. */
@Controller()
class NotificationsGrpc {
  @GrpcMethod('NotificationService', 'ListNotifications')
  list(request: { orderId: string }) {
    if (request.orderId === 'refuse') throw new DomainError('order_archived', 'order is archived', { orderId: 'refuse' });
    return { notifications: [{ notificationId: 'n1', orderId: request.orderId, status: 'NOTIFICATION_STATUS_SENT' }] };
  }
}

function appModule(platform: PlatformModuleOptions): DynamicModule {
  @Module({})
  class TestAppModule {}
  return { module: TestAppModule, imports: [PlatformModule.forRoot(platform)], controllers: [ThingsController, NotificationsGrpc] };
}

const notificationProto = [{ package: 'flowline.notification.v1', protoPath: 'notification/v1/notification.proto' }];

/** A TCP proxy in front of PostgreSQL, so a test can cut the database off from a running app. */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe('bootstrapService', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let svc: RunningService;
  let spans: InMemorySpanExporter;

  beforeAll(async () => {
    spans = installInMemoryTracing();
    db = await createTestDatabase('platform_boot');
    // The app reaches its database through a proxy the test can cut.
    proxy = await tcpProxy(Number(new URL(db.url).port || 5432));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    svc = await bootstrapService({
      name: 'platform-test',
      module: appModule({ serviceName: 'platform-test', database: { url: url.toString(), retryAttempts: 1 }, kafka: { brokers: kafkaBrokers() } }),
      httpPort: 0,
      grpcPort: 0,
      grpcPackages: notificationProto,
      shutdownHooks: false,
    });
  });

  afterAll(async () => {
    await svc?.close();
    await proxy?.cut();
    await db?.drop();
  });

  const grpcAddress = (): string => {
    if (!svc.grpcAddress) throw new Error('no gRPC server');
    return svc.grpcAddress;
  };
  const http = (path: string, init?: RequestInit) => fetch(`${svc.httpUrl}${path}`, init);
  const post = (path: string, body: unknown) =>
    http(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers liveness with 200', async () => {
    const res = await http('/health/live');
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: 'ok' });
  });

  it('is ready when its PostgreSQL database and Kafka answer', async () => {
    // Polled: on a loaded machine one probe can exceed its 2 s dependency timeout. Terminus
    // answers `status: 'ok'` only with HTTP 200 (503 says 'error').
    await expect
      .poll(async () => json(await http('/health/ready')), { timeout: 20_000, interval: 500 })
      .toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
  });

  it('exposes process metrics and request metrics in Prometheus text', async () => {
    await http('/health/live');
    const res = await http('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/flowline_http_server_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} \d+/);
  });

  it('serves its OpenAPI document at /docs-json and the UI at /docs', async () => {
    const res = await http('/docs-json');
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/things', '/health/ready']));
    expect(doc.paths['/metrics']).toBeUndefined();
    const ui = await http('/docs');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('accepts a valid body and converts it to the DTO types', async () => {
    const res = await post('/things', { name: 'box', lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }] });
    expect(res.status).toBe(201);
    expect(await json(res)).toEqual({ name: 'box', units: 5, quantityType: 'number' });
  });

  it('rejects an invalid body with 400 naming each offending field path and constraint', async () => {
    const res = await post('/things', { name: '', lines: [{ sku: 'A', quantity: 0 }, { sku: 7, quantity: 1 }], colour: 'red' });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ type: 'urn:flowline:problem:VALIDATION_FAILED', status: 400, code: 'VALIDATION_FAILED', instance: '/things' });
    const pairs = body.errors.map((e: { field: string; constraint: string }) => `${e.field}:${e.constraint}`);
    expect(pairs).toEqual(
      expect.arrayContaining(['name:isLength', 'lines.0.quantity:min', 'lines.1.sku:isString', 'colour:whitelistValidation']),
    );
    expect(pairs).toHaveLength(4);
  });

  it('maps a refused command (DomainError) to 409 problem+json with its code (UPPER_SNAKE_CASE), detail and details', async () => {
    const res = await post('/things', { name: 'taken', lines: [{ sku: 'A', quantity: 1 }] });
    expect(res.status).toBe(409);
    expect(await json(res)).toEqual({
      type: 'urn:flowline:problem:THING_ALREADY_EXISTS',
      title: 'Thing already exists',
      status: 409,
      detail: 'thing taken exists',
      instance: '/things',
      code: 'THING_ALREADY_EXISTS',
      domain: expect.stringMatching(/\.flowline$/),
      details: { name: 'taken' },
      errors: [],
      message: 'thing taken exists',
    });
  });

  it('maps DomainError kinds not_found to 404 and invalid to 422', async () => {
    const missing = await http('/things/42');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ status: 404, code: 'THING_NOT_FOUND', details: { id: '42' } });
    const invalid = await http('/things/invalid', { method: 'POST' });
    expect(invalid.status).toBe(422);
    expect((await json(invalid)).code).toBe('THING_INVALID');
  });

  it('traces a request: continues the caller\'s W3C traceparent, and work in the handler is a child span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${svc.httpUrl}/things/traced`, { method: 'POST', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(await json(res)).toEqual({ traceId });
    await expect
      .poll(() => spans.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === traceId), { timeout: 10_000 })
      .toBe(true);
    const server = spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === traceId);
    const work = spans.getFinishedSpans().find((s) => s.name === 'work' && s.spanContext().traceId === traceId);
    expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(work?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it('keeps a caller\'s X-Request-Id and gives every other request a new one', async () => {
    const given = await http('/health/live', { headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const [a, b] = await Promise.all([http('/health/live'), http('/health/live')]);
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('refuses a body that is not JSON with 415 naming its Content-Type (text/plain was parsed and reported as every field missing)', async () => {
    // (Form bodies keep their parser: carriers post their callbacks form-encoded.)
    for (const type of ['text/plain', 'application/xml', 'text/csv']) {
      const res = await http('/things', { method: 'POST', headers: { 'content-type': type }, body: 'name=box' });
      expect(res.status, type).toBe(415);
      const body = await json(res);
      expect(body, type).toMatchObject({ status: 415, detail: `Content-Type ${type} is not accepted: send the body as application/json` });
    }
    // JSON with a charset, and a POST without a body, still reach the handler.
    const ok = await http('/things', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ name: 'box', lines: [{ sku: 'A', quantity: 1 }] }) });
    expect(ok.status).toBe(201);
  });

  it('refuses a body over the 1 MiB limit with 413', async () => {
    const res = await post('/things', { name: 'x', lines: [{ sku: 'A'.repeat(1_100_000), quantity: 1 }] });
    expect(res.status).toBe(413);
  });

  it('lists its services through gRPC server reflection', async () => {
    const services = await grpcListServices(grpcAddress());
    expect(services).toEqual(expect.arrayContaining(['flowline.notification.v1.NotificationService', 'grpc.health.v1.Health']));
  });

  it('describes a service through reflection: its methods, messages and the common types it imports', async () => {
    const files = await grpcFileContainingSymbol(grpcAddress(), 'flowline.notification.v1.NotificationService');
    const text = Buffer.concat(files).toString('latin1');
    // Real file names and imports (buf's compilation), not proto-loader's flattened per-package files.
    expect(text).toContain('notification/v1/notification.proto');
    expect(text).toContain('ListNotifications');
    expect(text).toContain('ListNotificationsResponse');
    expect(text).toContain('common/v1/common.proto');
    expect(text).not.toContain('flowline_notification_v1.proto');
    expect(text).toContain('PageRequest');
  });

  it('reports SERVING on the standard gRPC health service, for the server and for its service', async () => {
    expect(await grpcHealthCheck(grpcAddress())).toBe('SERVING');
    expect(await grpcHealthCheck(grpcAddress(), 'flowline.notification.v1.NotificationService')).toBe('SERVING');
    await expect(grpcHealthCheck(grpcAddress(), 'no.such.Service')).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });

  it('serves gRPC handlers and maps DomainError to FAILED_PRECONDITION with the code in metadata', async () => {
    const client = grpcClient(grpcAddress(), 'notification/v1/notification.proto', 'flowline.notification.v1.NotificationService');
    try {
      const ok = await unary<{ notifications: { orderId: string; status: string }[] }>(client, 'ListNotifications', { orderId: 'o-1' });
      expect(ok.notifications).toEqual([expect.objectContaining({ orderId: 'o-1', status: 'NOTIFICATION_STATUS_SENT' })]);
      const error = (await unary(client, 'ListNotifications', { orderId: 'refuse' }).catch((e: unknown) => e)) as ServiceError;
      expect(error.code).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect(error.details).toBe('order is archived');
      expect(error.metadata.get('x-domain-code')).toEqual(['ORDER_ARCHIVED']);
      expect(decodeRpcStatus(error.metadata)?.errorInfo).toMatchObject({ reason: 'ORDER_ARCHIVED' });
    } finally {
      client.close();
    }
  });

  it('answers a bug with 500 INTERNAL problem+json and its request id, without internals', async () => {
    const res = await http('/things/db/bug');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await json(res);
    expect(body).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  // Last: cuts the database off for good.
  it('turns not ready (503) when PostgreSQL becomes unreachable, while staying live; a request that needs it is 503 DEPENDENCY_UNAVAILABLE with Retry-After, not a bare 500', async () => {
    expect((await http('/things/db/now')).status).toBe(200);
    await proxy.cut();
    const res = await http('/health/ready');
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body.error.postgres.status).toBe('down');
    expect(body.info.kafka.status).toBe('up');
    expect((await http('/health/live')).status).toBe(200);
    const read = await http('/things/db/now');
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toBe('2');
    expect(read.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(read)).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
  });
});

describe('readiness without Kafka', () => {
  let svc: RunningService;
  beforeAll(async () => {
    // Nothing listens on a port freshly released by the OS.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    svc = await bootstrapService({
      name: 'platform-test-nokafka',
      module: appModule({ serviceName: 'platform-test-nokafka', database: false, kafka: { brokers: [`127.0.0.1:${deadPort}`] } }),
      httpPort: 0,
      grpcPort: 0,
      shutdownHooks: false,
    });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('answers 503 naming kafka when the broker cannot be reached', async () => {
    const res = await fetch(`${svc.httpUrl}/health/ready`);
    expect(res.status).toBe(503);
    const body = await json(res);
    expect(body.error.kafka.status).toBe('down');
    expect(body.info.postgres).toBeUndefined();
  });

  it('runs without a gRPC server when it serves no proto package', () => {
    expect(svc.grpcAddress).toBeNull();
  });
});
