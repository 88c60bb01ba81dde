import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { bootstrapService, grpcClient, PlatformModule, unary, type RunningService } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, tokenFor, uniqueSuffix } from '@flowline/testing';
import { Metadata } from '@grpc/grpc-js';
import { createKafka, EventPublisher } from '@flowline/messaging';
import type { EventEnvelope, TrackingKpiReport, TrackingOrderDetailView, TrackingOrderPage, TrackingStuckOrderView } from '@flowline/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/infra/clock';
import { summaryFromRecord, projectionFields, visitFromRecord } from '../src/infra/row-mapping';
import { TrackingRuntime } from '../src/infra/tracking-runtime';
import { computeKpis } from '../src/projections/kpi.projection';
import { contextOf, TRACKED_TOPICS, type TrackedEvent } from '../src/projections/tracked-event';
import { SERVICE } from '../src/service';
import { TrackingModule } from '../src/tracking.module';
import { EventBuilder, happyPath, placedData } from './fixtures/events';
import { eventually } from './fixtures/harness';

/*
 * The tracking service in-process (Fastify, gRPC, real Kafka and PostgreSQL) with a manual clock:
 * SLA colours move with the clock job and no new event; as-of; filters and cursors; KPIs in SQL
 * equal the reference computation; stuck orders; SSE and gRPC streaming; checksum and rebuild.
 */

const T0 = '2026-03-02T01:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

const clock = new ManualClock(T0);
const prefix = testTopicPrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: RunningService;
let runtime: TrackingRuntime;
let publisher: EventPublisher;

async function publish(events: TrackedEvent[]): Promise<void> {
  await publisher.publish(
    events.map((e) => ({
      topic: TRACKED_TOPICS[contextOf(e.type)!],
      key: (e.data as { orderId: string }).orderId,
      envelope: e as EventEnvelope,
    })),
  );
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${svc.httpUrl}${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function waitForOrder(orderId: string, cond: (d: TrackingOrderDetailView) => boolean): Promise<TrackingOrderDetailView> {
  return eventually(`order ${orderId}`, async () => {
    const res = await fetch(`${svc.httpUrl}/api/tracking/orders/${orderId}`);
    if (res.status !== 200) return undefined;
    const d = (await res.json()) as TrackingOrderDetailView;
    return cond(d) ? d : undefined;
  }, 30_000, 100);
}

const b = new EventBuilder(T0, MIN, 'sla');
// o-sla: placed at T0, paid at T0+1min, then nothing: its 2 h budget runs out.
const slaOrder = [b.event('OrderPlaced', placedData('o-sla', {}, T0), { at: T0 }), b.event('OrderPaid', { orderId: 'o-sla', amount: 27900, currency: 'CNY', paidAt: at(MIN) }, { at: at(MIN) })];
// o-ship: the whole happy path, one minute per event, from T0+10min.
const b2 = new EventBuilder(at(10 * MIN), MIN, 'ship');
const shipOrder = happyPath(b2, 'o-ship', 'jd');
// o-hold: on hold, exception.
const b3 = new EventBuilder(at(20 * MIN), MIN, 'hold');
const holdOrder = [
  b3.event('OrderPlaced', placedData('o-hold', { channel: 'douyin' }, at(20 * MIN))),
  b3.event('OrderPaid', { orderId: 'o-hold', amount: 1, currency: 'CNY', paidAt: at(21 * MIN) }),
  b3.event('OrderPutOnHold', { orderId: 'o-hold', reason: '地址可疑' }, { actor: { kind: 'user', id: 'u1', role: 'customer_service', name: '王芳' } }),
  b3.event('OrderExceptionFlagged', { orderId: 'o-hold', code: 'address', reason: '地址无法派送' }),
];

beforeAll(async () => {
  db = await createTestDatabase('tracking_api');
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'tracking', database: { url: db.url }, kafka: { brokers: kafkaBrokers() } }),
      TrackingModule.forRoot({ clock, config: { topicPrefix: prefix, consumerGroup: `tracking-api-${uniqueSuffix()}`, topicPartitions: 3, clockIntervalMs: 0 } }),
    ],
  })
  class TestAppModule {}
  svc = await bootstrapService({ name: 'tracking', module: TestAppModule, httpPort: 0, grpcPort: 0, grpcPackages: SERVICE.grpcPackages, host: '127.0.0.1', shutdownHooks: false });
  runtime = svc.app.get(TrackingRuntime);
  publisher = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-api-test' }), topicPrefix: prefix });
  await publisher.connect();
  await publish([...slaOrder, ...shipOrder, ...holdOrder]);
  await waitForOrder('o-ship', (d) => d.order.stage === 'shipped' && d.timeline.length === shipOrder.length);
  await waitForOrder('o-hold', (d) => d.order.flags.length === 2);
  await waitForOrder('o-sla', (d) => d.order.stage === 'paid');
}, 120_000);

afterAll(async () => {
  await publisher?.disconnect();
  await svc?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-api-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  await db?.drop();
});

describe('SLA colours move with the clock, not with events', () => {
  it('an order left in paid past its budget turns yellow at 80% and red beyond 100%, with no new event', async () => {
    const colour = async () => (await get<TrackingOrderDetailView>('/api/tracking/orders/o-sla')).order.sla;
    clock.set(at(MIN + 90 * MIN)); // 75% of 2 h
    await runtime.clockJob.tick();
    expect((await colour()).colour).toBe('green');

    clock.set(at(MIN + 96 * MIN)); // 80%
    const yellow = await runtime.clockJob.tick();
    expect(yellow.changed).toContainEqual({ orderId: 'o-sla', slaColour: 'yellow', stuck: false });
    expect(await colour()).toMatchObject({ colour: 'yellow', segment: 'paid_to_ready', dueAt: at(MIN + 2 * HOUR), asOf: at(MIN + 96 * MIN) });

    clock.set(at(MIN + 2 * HOUR + 1));
    const red = await runtime.clockJob.tick();
    expect(red.changed).toContainEqual({ orderId: 'o-sla', slaColour: 'red', stuck: false });
    expect((await colour()).colour).toBe('red');
    const reds = await get<TrackingOrderPage>('/api/tracking/orders?sla=red');
    expect(reds.items.map((o) => o.orderId)).toEqual(['o-sla']);
  });

  it('pushes the colour change to SSE subscribers', async () => {
    clock.set(at(MIN + 30 * MIN));
    await runtime.clockJob.tick(); // back to green
    const controller = new AbortController();
    const res = await fetch(`${svc.httpUrl}/api/tracking/stream?orderId=o-sla`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    clock.set(at(MIN + 3 * HOUR));
    await runtime.clockJob.tick();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('"colour":"red"') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('event: order');
    expect(text).toContain('"orderId":"o-sla"');
    expect(text).toContain('"colour":"red"');
  });
});

describe('queries', () => {
  it('returns the whole timeline in both languages with rule ids and stage durations', async () => {
    const d = await get<TrackingOrderDetailView>('/api/tracking/orders/o-ship');
    expect(d.timeline.map((t) => t.type)).toEqual(shipOrder.map((e) => e.type));
    expect(d.timeline.find((t) => t.type === 'OrderReadyToShip')).toMatchObject({ rule: { ruleId: 'auto-audit', ruleSetVersion: 'rs-7' }, what: { zh: '审单通过，待发货（包邮）' } });
    expect(d.stageDurations.map((v) => [v.stage, v.durationMs])).toEqual([
      ['placed', MIN],
      ['paid', 2 * MIN],
      ['stock_reserved', 2 * MIN],
      ['ready_to_ship', 2 * MIN],
      ['packed', 2 * MIN],
      ['shipped', null],
    ]);
    expect((await fetch(`${svc.httpUrl}/api/tracking/orders/nope`)).status).toBe(404);
  });

  it('as-of returns the stage, flags, colour and timeline the order had at that moment', async () => {
    const paidAt = shipOrder[1].occurredAt;
    const reservedAt = shipOrder[3].occurredAt;
    const asPaid = await get<TrackingOrderDetailView>(`/api/tracking/orders/o-ship?asOf=${encodeURIComponent(paidAt)}`);
    expect(asPaid).toMatchObject({ asOf: paidAt, order: { stage: 'paid', stageEnteredAt: paidAt, sla: { colour: 'green' } } });
    expect(asPaid.timeline.map((t) => t.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    const justBefore = new Date(Date.parse(reservedAt) - 1).toISOString();
    expect((await get<TrackingOrderDetailView>(`/api/tracking/orders/o-ship?asOf=${encodeURIComponent(justBefore)}`)).order.stage).toBe('paid');
    expect((await get<TrackingOrderDetailView>(`/api/tracking/orders/o-ship?asOf=${encodeURIComponent(reservedAt)}`)).order.stage).toBe('stock_reserved');
    const holdAsOf = await get<TrackingOrderDetailView>(`/api/tracking/orders/o-hold?asOf=${encodeURIComponent(holdOrder[2].occurredAt)}`);
    expect(holdAsOf.order.flags).toEqual(['on_hold']);
    expect((await fetch(`${svc.httpUrl}/api/tracking/orders/o-ship?asOf=2020-01-01T00:00:00Z`)).status).toBe(404);
    expect((await fetch(`${svc.httpUrl}/api/tracking/orders/o-ship?asOf=yesterday`)).status).toBe(400);
  });

  it('filters by stage, channel, flags and date range, and pages with a cursor', async () => {
    expect((await get<TrackingOrderPage>('/api/tracking/orders?stage=shipped')).items.map((o) => o.orderId)).toEqual(['o-ship']);
    expect((await get<TrackingOrderPage>('/api/tracking/orders?channel=douyin')).items.map((o) => o.orderId)).toEqual(['o-hold']);
    expect((await get<TrackingOrderPage>('/api/tracking/orders?flags=on_hold,exception')).items.map((o) => o.orderId)).toEqual(['o-hold']);
    expect((await get<TrackingOrderPage>(`/api/tracking/orders?from=${encodeURIComponent(at(5 * MIN))}&to=${encodeURIComponent(at(15 * MIN))}`)).items.map((o) => o.orderId)).toEqual(['o-ship']);
    const p1 = await get<TrackingOrderPage>('/api/tracking/orders?limit=2');
    expect(p1.items.map((o) => o.orderId)).toEqual(['o-hold', 'o-ship']);
    const p2 = await get<TrackingOrderPage>(`/api/tracking/orders?limit=2&cursor=${p1.nextCursor}`);
    expect(p2).toEqual({ items: [expect.objectContaining({ orderId: 'o-sla' })], nextCursor: null });
    expect((await fetch(`${svc.httpUrl}/api/tracking/orders?stage=teleported`)).status).toBe(400);
    expect((await fetch(`${svc.httpUrl}/api/tracking/orders?cursor=garbage`)).status).toBe(422);
  });

  it('computes KPIs in SQL equal to the reference computation over the same rows', async () => {
    clock.set(at(3 * HOUR));
    const k = await get<TrackingKpiReport>(`/api/tracking/kpis?from=${encodeURIComponent(at(-HOUR))}&to=${encodeURIComponent(at(10 * HOUR))}`);
    const orders = (await runtime.pool.query('SELECT * FROM tracking.order_summary')).rows.map((r) => projectionFields(summaryFromRecord(r)));
    const visits = (await runtime.pool.query('SELECT * FROM tracking.stage_visit')).rows.map(visitFromRecord);
    const expected = computeKpis({ orders, visits, from: at(-HOUR), to: at(10 * HOUR), now: at(3 * HOUR), config: runtime.config.sla });
    expect(k).toEqual({ ...expected, channel: null });
    expect(k).toMatchObject({ orders: 3, manualTouchOrders: 1, exceptionOrders: 1, platformOrders: 3 });
  });

  it('lists orders stuck longer than 24 h in one working stage', async () => {
    clock.set(at(25 * HOUR));
    const stuck = await get<TrackingStuckOrderView[]>('/api/tracking/stuck');
    expect(stuck.map((s) => s.order.orderId)).toEqual(['o-sla', 'o-hold']);
    expect(stuck[0].reason.zh).toBe('在「支付确认」停留 24 小时未推进');
    const tick = await runtime.clockJob.tick();
    expect(tick.changed).toEqual(expect.arrayContaining([expect.objectContaining({ orderId: 'o-sla', stuck: true })]));
    expect((await get<TrackingOrderPage>('/api/tracking/orders?flags=stuck')).items.map((o) => o.orderId).sort()).toEqual(['o-hold', 'o-sla']);
  });
});

describe('gRPC', () => {
  it('serves GetOrder and ListOrders, and streams WatchOrders', async () => {
    const client = grpcClient(svc.grpcAddress!, 'tracking/v1/tracking.proto', 'flowline.tracking.v1.TrackingService');
    try {
      const got = await unary<{ order: { stage: string; slaColour: string }; timeline: { type: string; whatZh: string; ruleId: string; ruleSetVersion: string }[] }>(client, 'GetOrder', { orderId: 'o-ship' });
      expect(got.order).toMatchObject({ stage: 'ORDER_STAGE_SHIPPED', slaColour: 'SLA_COLOUR_NONE' });
      expect(got.timeline.find((t) => t.type === 'OrderReadyToShip')).toMatchObject({ whatZh: '审单通过，待发货（包邮）', ruleId: 'auto-audit', ruleSetVersion: 'rs-7' });
      const list = await unary<{ orders: { orderId: string }[] }>(client, 'ListOrders', { stages: ['ORDER_STAGE_PAID'] });
      expect(list.orders.map((o) => o.orderId).sort()).toEqual(['o-hold', 'o-sla']);

      const auth = new Metadata();
      auth.set('authorization', `Bearer ${await tokenFor('admin')}`);
      const stream = (client as unknown as { WatchOrders(req: unknown, md: Metadata): NodeJS.EventEmitter & { cancel(): void } }).WatchOrders({ orderIds: ['o-sla'] }, auth);
      const messages: { kind: string; order: { orderId: string; stage: string; slaColour: string } }[] = [];
      stream.on('data', (m) => messages.push(m));
      stream.on('error', () => undefined);
      // The stream is live once a clock-driven colour change of o-sla comes through it.
      let flip = 0;
      await eventually('the watch stream to deliver', async () => {
        clock.set(at(flip++ % 2 === 0 ? MIN : MIN + 3 * HOUR));
        await runtime.clockJob.tick();
        return messages.length > 0 ? true : undefined;
      }, 30_000, 300);
      const bb = new EventBuilder(at(30 * HOUR), MIN, 'watch');
      await publish([{ ...bb.event('OrderStockReserved', { orderId: 'o-sla', reservationId: 'r', allocations: [] }), streamPosition: 2 }]);
      const msg = await eventually('the event-driven change on the stream', async () => messages.find((m) => m.order?.stage === 'ORDER_STAGE_STOCK_RESERVED'), 30_000, 100);
      stream.cancel();
      expect(msg).toMatchObject({ kind: 'order', order: { orderId: 'o-sla', stage: 'ORDER_STAGE_STOCK_RESERVED' } });
    } finally {
      client.close();
    }
  });
});

describe('board', () => {
  it('serves the live board page in Chinese, driven by the REST API and the SSE stream', async () => {
    const res = await fetch(`${svc.httpUrl}/board`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('订单实时看板');
    expect(html).toContain("new EventSource('api/tracking/stream'");
    expect(html).toContain('api/tracking/orders?limit=500');
  });
});

describe('operations', () => {
  it('exposes projection lag as Prometheus metrics', async () => {
    // Polled: the gRPC test's event may still be in flight.
    const text = await eventually('zero lag', async () => {
      const t = await (await fetch(`${svc.httpUrl}/metrics`)).text();
      return /flowline_tracking_projection_lag_events\{topic="orders.events.v1"\} 0\n/.test(t) ? t : undefined;
    }, 30_000, 250);
    expect(text).toMatch(/flowline_tracking_projection_lag_seconds\{topic="orders.events.v1"\} 0\n/);
    expect(text).toContain('flowline_tracking_projection_delay_seconds_bucket');
  });

  it('rebuilds through the admin API and the checksum of the swapped-in tables equals the one before', { timeout: 150_000 }, async () => {
    await eventually('zero lag', async () => ((await runtime.projector!.measureLag()).every((l) => l.events === 0) ? true : undefined), 30_000, 200);
    const before = await get<{ checksum: string }>('/api/tracking/admin/checksum');
    const started = await fetch(`${svc.httpUrl}/api/tracking/admin/rebuild`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ swap: true }) });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const done = await eventually('the rebuild', async () => {
      const s = await get<{ phase: string; error: string | null; report: { swapped: boolean } | null }>(`/api/tracking/admin/rebuild/${id}`);
      if (s.phase === 'failed') throw new Error(s.error ?? 'failed');
      return s.phase === 'done' ? s : undefined;
    }, 110_000, 200);
    expect(done.report?.swapped).toBe(true);
    const after = await get<{ checksum: string }>('/api/tracking/admin/checksum');
    expect(after.checksum).toBe(before.checksum);
    expect((await fetch(`${svc.httpUrl}/api/tracking/admin/checksum?schema=public`)).status).toBe(422);
  });
});
