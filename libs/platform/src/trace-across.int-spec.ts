import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Inject, Module, Param, Post, type DynamicModule } from '@nestjs/common';
import { SpanKind, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { IsInt, IsString, Length, Min } from 'class-validator';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { Topics, upcast, type AnyContractEnvelope, type OrderEventDataMap } from '@flowline/contracts';
import { PostgresEventStore, type EventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, EventRelay, runConsumer, type ConsumerHandle } from '@flowline/messaging';
import { installInMemoryTracing } from '@flowline/observability';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from './bootstrap';
import { PlatformModule } from './platform.module';

// The trace of one request across the whole spine, against the real PostgreSQL and Kafka:
//   HTTP server span (Nest on Fastify, via bootstrapService)
//     -> eventstore.append (PostgresEventStore; stores the traceparent in the event's metadata)
//       -> relay.publish (EventRelay, continuing the stored traceparent; sends its own as a Kafka header)
//         -> consume orders.events.v1 (runConsumer, parented by that header; the handler runs inside it)
// It lives in libs/platform, the top of the lib stack: the same file in libs/observability would
// import bootstrapService and close a platform <-> observability cycle (module-boundaries lint).

process.env.LOG_LEVEL ??= 'warn';

const EVENT_STORE = Symbol('EVENT_STORE');

class RecordPaymentDto {
  @IsInt() @Min(1) amount!: number;
  @IsString() @Length(3, 3) currency!: string;
}

@Controller('orders')
class PaymentsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Records a payment: one append, as an application handler does after `decide`. */
  @Post(':orderId/payments')
  @HttpCode(201)
  async record(@Param('orderId') orderId: string, @Body() dto: RecordPaymentDto) {
    const eventId = randomUUID();
    const now = new Date().toISOString();
    const data: OrderEventDataMap['OrderPaid'] = { orderId, amount: dto.amount, currency: dto.currency, paidAt: now };
    await this.store.appendToStream(`order-${orderId}`, [
      { eventId, type: 'OrderPaid', data, metadata: { correlationId: `req-${orderId}`, causationId: null, occurredAt: now } },
    ]);
    return { eventId };
  }
}

function appModule(store: EventStore): DynamicModule {
  @Module({})
  class TraceTestModule {}
  return {
    module: TraceTestModule,
    imports: [PlatformModule.forRoot({ serviceName: 'trace-test', database: false, kafka: false })],
    controllers: [PaymentsController],
    providers: [{ provide: EVENT_STORE, useValue: store }],
  };
}

interface Received {
  envelope: AnyContractEnvelope;
  /** The span active while the handler ran. */
  activeSpanId: string | undefined;
  traceparent: string | undefined;
}

describe('one trace: HTTP -> append -> relay -> Kafka -> consume', () => {
  const prefix = testTopicPrefix();
  const received = new Map<string, Received>();
  let exporter: InMemorySpanExporter;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let store: PostgresEventStore;
  let kafka: Kafka;
  let admin: Admin;
  let publisher: EventPublisher;
  let relay: EventRelay;
  let consumer: ConsumerHandle;
  let svc: RunningService;

  beforeAll(async () => {
    // Before anything serves: spans go to memory, with the services' context manager and propagator.
    exporter = installInMemoryTracing();
    db = await createTestDatabase('trace_across');
    pool = new Pool({ connectionString: db.url, max: 6 });
    store = await PostgresEventStore.create({ pool, pollIntervalMs: 20 });

    kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'trace-across' });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [Topics.orderEvents], { partitions: 2, prefix });

    publisher = new EventPublisher({ kafka, topicPrefix: prefix });
    await publisher.connect();
    await startRelay();

    consumer = await runConsumer({
      groupId: `trace-across-${uniqueSuffix()}`,
      topics: [Topics.orderEvents],
      kafka,
      topicPrefix: prefix,
      pool,
      maxRetries: 0,
      handler: async (envelope, _tx, message) => {
        received.set(envelope.eventId, {
          envelope: upcast(envelope),
          activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
          traceparent: message.headers.traceparent,
        });
      },
    });

    svc = await bootstrapService({ name: 'trace-test', module: appModule(store), httpPort: 0, grpcPort: 0, host: '127.0.0.1', shutdownHooks: false });
  });

  afterAll(async () => {
    await svc?.close();
    await consumer?.stop();
    await relay?.stop();
    await publisher?.disconnect();
    await store?.close();
    await pool?.end();
    await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
    await admin?.disconnect();
    await db?.drop();
  });

  beforeEach(() => {
    exporter.reset();
  });

  /** (Re)starts the relay from its checkpoint; `batches` collects the event ids of each publish. */
  async function startRelay(options: { lingerMs?: number; batches?: string[][] } = {}): Promise<void> {
    relay = new EventRelay({
      name: 'trace-across',
      store,
      publisher,
      pool,
      lingerMs: options.lingerMs ?? 5,
      route: (e) => ({ topic: Topics.orderEvents, key: (e.data as { orderId: string }).orderId }),
      hooks: { beforePublish: (events) => void options.batches?.push(events.map((e) => e.eventId)) },
    });
    await relay.start();
  }

  async function pay(orderId: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await fetch(`${svc.httpUrl}/orders/${orderId}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ amount: 28100, currency: 'CNY' }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { eventId: string }).eventId;
  }

  /** The four spans of one request's journey, once the consume span has ended. */
  async function journey(orderId: string, eventId: string) {
    const find = () => {
      const spans = exporter.getFinishedSpans();
      const attr = (s: ReadableSpan, k: string) => s.attributes[k];
      return {
        server: spans.find((s) => s.kind === SpanKind.SERVER && JSON.stringify(s.attributes).includes(`/orders/${orderId}/payments`)),
        append: spans.find((s) => s.name === 'eventstore.append' && attr(s, 'eventstore.stream_id') === `order-${orderId}`),
        publish: spans.find((s) => s.name === 'relay.publish' && attr(s, 'messaging.message.id') === eventId),
        consume: spans.find((s) => s.kind === SpanKind.CONSUMER && attr(s, 'messaging.message.id') === eventId),
      };
    };
    await expect.poll(() => Object.values(find()).every(Boolean), { timeout: 60_000, interval: 50 }).toBe(true);
    const { server, append, publish, consume } = find() as Record<'server' | 'append' | 'publish' | 'consume', ReadableSpan>;
    return { server, append, publish, consume };
  }

  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  const idOf = (s: ReadableSpan) => s.spanContext().spanId;

  it('links the HTTP request, the append, the relay publish and the consumer in one trace', async () => {
    const orderId = `trace-${uniqueSuffix()}`;
    const eventId = await pay(orderId);
    const { server, append, publish, consume } = await journey(orderId, eventId);

    const traceId = server.spanContext().traceId;
    expect(parentOf(server), 'the HTTP server span starts the trace').toBeUndefined();
    expect(append.spanContext().traceId).toBe(traceId);
    expect(parentOf(append)).toBe(idOf(server));
    expect(publish.spanContext().traceId).toBe(traceId);
    expect(parentOf(publish)).toBe(idOf(append));
    expect(consume.spanContext().traceId).toBe(traceId);
    expect(parentOf(consume)).toBe(idOf(publish));
    expect([server.kind, append.kind, publish.kind, consume.kind]).toEqual([SpanKind.SERVER, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]);
    expect(consume.name).toBe(`consume ${Topics.orderEvents}`);

    // Nothing the request caused broke off into a trace of its own.
    expect(new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    // The Kafka header carried the relay's span; the handler ran inside the consume span (so its logs carry the trace id).
    const got = received.get(eventId);
    expect(got?.traceparent).toBe(`00-${traceId}-${idOf(publish)}-01`);
    expect(got?.activeSpanId).toBe(idOf(consume));
    expect(got?.envelope).toMatchObject({ type: 'OrderPaid', schemaVersion: 1, streamId: `order-${orderId}`, data: { orderId, amount: 28100, currency: 'CNY' } });
  });

  it("joins the caller's trace when the request carries a traceparent", async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const orderId = `trace-${uniqueSuffix()}`;
    const eventId = await pay(orderId, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    const { server, append, publish, consume } = await journey(orderId, eventId);
    for (const s of [server, append, publish, consume]) expect(s.spanContext().traceId, s.name).toBe(callerTrace);
    expect(parentOf(server)).toBe(callerSpan);
    expect(parentOf(append)).toBe(idOf(server));
    expect(parentOf(publish)).toBe(idOf(append));
    expect(parentOf(consume)).toBe(idOf(publish));
  });

  it('keeps concurrent requests in separate traces when the relay publishes them in one batch', async () => {
    // The relay is down while the requests are served, so on restart it catches them up in one publish.
    await relay.stop();
    const orders = [0, 1, 2, 3].map(() => `trace-${uniqueSuffix()}`);
    const eventIds = await Promise.all(orders.map((o) => pay(o)));
    const batches: string[][] = [];
    await startRelay({ lingerMs: 50, batches });
    const journeys = await Promise.all(orders.map((o, i) => journey(o, eventIds[i])));
    expect(batches.some((b) => eventIds.every((id) => b.includes(id))), JSON.stringify(batches)).toBe(true);
    const traceIds = journeys.map((j) => j.server.spanContext().traceId);
    expect(new Set(traceIds).size).toBe(orders.length);
    journeys.forEach(({ server, append, publish, consume }, i) => {
      for (const s of [append, publish, consume]) expect(s.spanContext().traceId, `${orders[i]} ${s.name}`).toBe(traceIds[i]);
      expect(parentOf(append)).toBe(idOf(server));
      expect(parentOf(publish)).toBe(idOf(append));
      expect(parentOf(consume)).toBe(idOf(publish));
      expect(received.get(eventIds[i])?.activeSpanId).toBe(idOf(consume));
    });
    expect(new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId))).toEqual(new Set(traceIds));
  });
});
