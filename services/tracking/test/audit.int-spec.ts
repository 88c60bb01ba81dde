import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { bootstrapService, PlatformModule, StrictReflectionClient, type RunningService } from '@flowline/platform';
import { Metadata } from '@grpc/grpc-js';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, tokenFor, uniqueSuffix } from '@flowline/testing';
import { createKafka, EventPublisher } from '@flowline/messaging';
import type { EventEnvelope } from '@flowline/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/infra/clock';
import { contextOf, TRACKED_TOPICS, type TrackedEvent } from '../src/projections/tracked-event';
import { SERVICE } from '../src/service';
import { TrackingModule } from '../src/tracking.module';
import { EventBuilder, placedData } from './fixtures/events';
import { eventually } from './fixtures/harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies asserted field by field
type Json = Record<string, any>;

/*
 * The audit query (issue #16) on tracking's timeline, in-process with real Kafka and PostgreSQL and
 * tokens from the run's issuer: per order and per actor, with the token's subject and client id.
 */
const T0 = '2026-03-02T01:00:00.000Z';
const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const prefix = testTopicPrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: RunningService;
let publisher: EventPublisher;

const cs = { kind: 'user' as const, id: 'cs', role: 'customer_service', name: '王芳', clientId: 'flowline-console' };
const integration = { kind: 'service' as const, id: 'svc-channel-gateway', role: 'integration', clientId: 'svc-channel-gateway' };
const b = new EventBuilder(T0, MIN, 'audit');
const events: TrackedEvent[] = [
  b.event('OrderPlaced', placedData('o-audit-1', { channel: 'jd', shopId: 'jd-flagship' }, T0), { at: T0, actor: integration }),
  b.event('OrderPutOnHold', { orderId: 'o-audit-1', reason: '地址可疑' }, { at: at(MIN), actor: cs }),
  b.event('OrderPlaced', placedData('o-audit-2', { channel: 'taobao', shopId: 'tb-main' }, at(2 * MIN)), { at: at(2 * MIN), actor: integration }),
  b.event('OrderPutOnHold', { orderId: 'o-audit-2', reason: '客户要求' }, { at: at(3 * MIN), actor: cs }),
] as TrackedEvent[];

async function get(path: string, token?: string): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${svc.httpUrl}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, json: (await res.json()) as Json };
}

beforeAll(async () => {
  db = await createTestDatabase('tracking_audit');
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'tracking', database: { url: db.url }, kafka: { brokers: kafkaBrokers() } }),
      TrackingModule.forRoot({ clock: new ManualClock(at(10 * MIN)), config: { topicPrefix: prefix, consumerGroup: `tracking-audit-${uniqueSuffix()}`, topicPartitions: 3, clockIntervalMs: 0 } }),
    ],
  })
  class TestAppModule {}
  svc = await bootstrapService({ name: 'tracking', module: TestAppModule, httpPort: 0, grpcPort: 0, grpcPackages: SERVICE.grpcPackages, host: '127.0.0.1', shutdownHooks: false });
  publisher = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-audit-test' }), topicPrefix: prefix });
  await publisher.connect();
  await publisher.publish(events.map((e) => ({ topic: TRACKED_TOPICS[contextOf(e.type)!], key: (e.data as { orderId: string }).orderId, envelope: e as EventEnvelope })));
  await eventually('both orders on the audit trail', async () => {
    const r = await get('/api/audit?actor=cs');
    return r.status === 200 && r.json.items.length === 2 ? r : undefined;
  }, 60_000, 100);
}, 120_000);

afterAll(async () => {
  await publisher?.disconnect();
  await svc?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-audit-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  await db?.drop();
});

describe('GET /api/audit', () => {
  it("answers per actor, newest first, with the token's subject, role and client id", async () => {
    const r = await get('/api/audit?actor=cs');
    expect(r.status).toBe(200);
    expect(r.json.items.map((i: Json) => [i.orderId, i.type])).toEqual([
      ['o-audit-2', 'OrderPutOnHold'],
      ['o-audit-1', 'OrderPutOnHold'],
    ]);
    expect(r.json.items[0].actor).toEqual({ kind: 'user', id: 'cs', role: 'customer_service', name: '王芳', clientId: 'flowline-console' });
  });

  it('answers per order, with the time window and keyset pages', async () => {
    const all = await get('/api/audit?orderId=o-audit-1');
    expect(all.json.items.map((i: Json) => i.type)).toEqual(['OrderPutOnHold', 'OrderPlaced']);
    expect(all.json.items[1].actor).toMatchObject({ kind: 'service', id: 'svc-channel-gateway', clientId: 'svc-channel-gateway' });
    const window = await get(`/api/audit?orderId=o-audit-1&from=${encodeURIComponent(T0)}&to=${encodeURIComponent(at(MIN))}`);
    expect(window.json.items.map((i: Json) => i.type)).toEqual(['OrderPlaced']);
    const first = await get('/api/audit?actor=cs&limit=1');
    expect(first.json.items).toHaveLength(1);
    const second = await get(`/api/audit?actor=cs&limit=1&cursor=${first.json.nextCursor}`);
    expect(second.json.items.map((i: Json) => i.orderId)).toEqual(['o-audit-1']);
    expect(second.json.nextCursor).toBeNull();
  });

  it('refuses a query without actor or orderId, and bad times, naming the fields', async () => {
    const none = await get('/api/audit');
    expect(none.status).toBe(400);
    expect(none.json.errors.map((e: Json) => e.field).sort()).toEqual(['actor', 'orderId']);
    const bad = await get('/api/audit?orderId=o-audit-1&from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: Json) => e.field)).toContain('from');
  });

  it('a customer token reads its own order as the buyer sees it, and none of the views across orders', async () => {
    const buyer = await tokenFor('customer', { orders: ['o-audit-1'] });
    const own = await get('/api/tracking/orders/o-audit-1', buyer);
    expect(own.status).toBe(200);
    expect(own.json.timeline.length).toBeGreaterThan(0);
    expect(own.json.timeline.every((e: Json) => e.actor === null && ['商家', '您'].includes(e.who.zh))).toBe(true);
    expect(own.json.approvalChains).toBeUndefined();
    for (const path of ['/api/tracking/stuck', '/api/tracking/kpis', '/api/tracking/shipments?orderIds=o-audit-1', '/api/tracking/stream']) {
      expect((await get(path, buyer)).status, path).toBe(403);
    }
    // Staff keep the whole timeline and the views across orders.
    const staff = await get('/api/tracking/orders/o-audit-1', await tokenFor('customer_service'));
    expect(staff.json.timeline.some((e: Json) => e.actor !== null)).toBe(true);
    expect((await get('/api/tracking/stuck', await tokenFor('customer_service'))).status).toBe(200);
  });

  it("a warehouse token reads orders without their payment fields (ADR 0018's field rule), in the order, the list and the timeline; customer service keeps them", async () => {
    const warehouse = await tokenFor('warehouse');
    const one = await get('/api/tracking/orders/o-audit-1', warehouse);
    expect(one.status).toBe(200);
    expect(Object.keys(one.json.order)).not.toContain('paidAmount');
    expect(Object.keys(one.json.order)).not.toContain('refundedAmount');
    expect(one.json.order.grandTotal).toEqual(expect.any(Number));
    const list = await get('/api/tracking/orders?limit=50', warehouse);
    expect(list.json.items.length).toBeGreaterThan(0);
    expect(list.json.items.every((o: Json) => !('paidAmount' in o) && !('refundedAmount' in o))).toBe(true);
    const staff = await get('/api/tracking/orders/o-audit-1', await tokenFor('customer_service'));
    expect(staff.json.order).toMatchObject({ paidAmount: expect.any(Number), refundedAmount: expect.any(Number) });
  });

  it('refuses an order list whose from is after its to (400 naming from), as the KPI window and the audit trail do; an empty page was the answer', async () => {
    const r = await get(`/api/tracking/orders?from=${encodeURIComponent('2026-12-02T00:00:00Z')}&to=${encodeURIComponent('2026-12-01T00:00:00Z')}`);
    expect(r.status).toBe(400);
    expect(r.json.errors.map((e: Json) => e.field)).toEqual(['from']);
    expect((await get(`/api/tracking/orders?from=${encodeURIComponent('2026-12-01T00:00:00Z')}&to=${encodeURIComponent('2026-12-01T00:00:00Z')}`)).status).toBe(200);
  });

  it("lets only admins and the general manager read another actor's trail; shop scope applies; customers are refused", async () => {
    const warehouse = await tokenFor('warehouse');
    expect((await get('/api/audit?actor=cs', warehouse)).status).toBe(403);
    expect((await get('/api/audit?actor=cs', await tokenFor('general_manager'))).status).toBe(200);
    expect((await get('/api/audit?orderId=o-audit-1', await tokenFor('customer', { orders: ['o-audit-1'] }))).status).toBe(403);
    const jdOnly = await tokenFor('customer_service', { shops: ['jd-flagship'] });
    expect((await get('/api/audit?orderId=o-audit-1', jdOnly)).json.items).toHaveLength(2);
    expect((await get('/api/audit?orderId=o-audit-2', jdOnly)).status).toBe(404);
    expect((await get('/api/audit?orderId=o-audit-1')).status).toBe(200);
    expect((await fetch(`${svc.httpUrl}/api/audit?orderId=o-audit-1`, { headers: { authorization: '' } })).status).toBe(401);
  });
});

describe('views across orders keep a shop-limited token to its shops', () => {
  it('stuck orders: a JD-only token gets the JD order only (gRPC ListStuckOrders, stalled for a minute)', async () => {
    if (!svc.grpcAddress) throw new Error('tracking serves no gRPC address');
    const client = new StrictReflectionClient(svc.grpcAddress);
    try {
      const method = (await client.describe('flowline.tracking.v1.TrackingService')).methods.find((m) => m.name === 'ListStuckOrders');
      if (!method) throw new Error('no ListStuckOrders');
      const stuckFor = async (token: string) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${token}`);
        const r = await client.call(method, { stalledForSeconds: 60, page: { pageSize: 100 } }, md);
        expect(r.ok, JSON.stringify(r.error)).toBe(true);
        return ((r.response as Json).orders as Json[]).map((o) => o.order.orderId).filter((id: string) => id.startsWith('o-audit-')).sort();
      };
      expect(await stuckFor(await tokenFor('customer_service'))).toEqual(['o-audit-1', 'o-audit-2']);
      expect(await stuckFor(await tokenFor('customer_service', { shops: ['jd-flagship'] }))).toEqual(['o-audit-1']);
    } finally {
      client.close();
    }
  });

  it("KPIs: a JD-only token's figures count its shop's orders only (REST and gRPC)", async () => {
    const window = `from=${encodeURIComponent(at(-MIN))}&to=${encodeURIComponent(at(10 * MIN))}`;
    expect((await get(`/api/tracking/kpis?${window}`)).json.orders).toBe(2);
    const jdOnly = await tokenFor('customer_service', { shops: ['jd-flagship'] });
    const jd = await get(`/api/tracking/kpis?${window}`, jdOnly);
    expect(jd.status).toBe(200);
    expect(jd.json.orders).toBe(1);
    expect(jd.json.byChannelAndStage.map((c: Json) => c.channel)).toEqual(['jd']);
    if (!svc.grpcAddress) throw new Error('tracking serves no gRPC address');
    const client = new StrictReflectionClient(svc.grpcAddress);
    try {
      const method = (await client.describe('flowline.tracking.v1.TrackingService')).methods.find((m) => m.name === 'GetKpis');
      if (!method) throw new Error('no GetKpis');
      const md = new Metadata();
      md.set('authorization', `Bearer ${jdOnly}`);
      const r = await client.call(method, { from: at(-MIN), to: at(10 * MIN) }, md);
      expect(r.ok, JSON.stringify(r.error)).toBe(true);
      expect(Number((r.response as Json).ordersPlaced)).toBe(1);
    } finally {
      client.close();
    }
  });

  it("the live stream: a JD-only token's board never receives a Taobao order's change", async () => {
    const res = await fetch(`${svc.httpUrl}/api/tracking/stream`, { headers: { authorization: `Bearer ${await tokenFor('customer_service', { shops: ['jd-flagship'] })}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const publishOne = (e: TrackedEvent) => publisher.publish([{ topic: TRACKED_TOPICS[contextOf(e.type)!], key: (e.data as { orderId: string }).orderId, envelope: e as EventEnvelope }]);
    try {
      // The Taobao order changes and is projected (so the stream has had it) before the JD one changes:
      // the two are on different partitions, so only this order makes "the JD change came, the Taobao one did not" mean anything.
      await publishOne(b.event('OrderHoldReleased', { orderId: 'o-audit-2', reason: '已核实' }, { at: at(20 * MIN), actor: cs }) as TrackedEvent);
      await eventually('the Taobao change projected', async () => {
        const r = await get('/api/tracking/orders/o-audit-2');
        return r.status === 200 && r.json.timeline.some((e: Json) => e.type === 'OrderHoldReleased') ? r : undefined;
      }, 60_000, 100);
      await publishOne(b.event('OrderHoldReleased', { orderId: 'o-audit-1', reason: '已核实' }, { at: at(21 * MIN), actor: cs }) as TrackedEvent);
      let text = '';
      const deadline = Date.now() + 60_000;
      while (!text.includes('"orderId":"o-audit-1"') && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
        if (!chunk || chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      expect(text).toContain('"orderId":"o-audit-1"');
      expect(text).not.toContain('o-audit-2');
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  });

  it("parcels of several orders: a JD-only token gets its shop's order's parcels, another shop's order is left out", async () => {
    await publisher.publish(
      ['o-audit-1', 'o-audit-2'].map((orderId) => {
        const e = b.event('ShipmentShipped', { orderId, shipmentId: `shp-${orderId}`, carrier: 'SF', trackingNumber: `SF${orderId}` }, { at: at(30 * MIN), actor: { kind: 'service', id: 'fulfillment' } }) as TrackedEvent;
        return { topic: TRACKED_TOPICS[contextOf(e.type)!], key: orderId, envelope: e as EventEnvelope };
      }),
    );
    const both = await eventually('both parcels tracked', async () => {
      const r = await get('/api/tracking/shipments?orderIds=o-audit-1,o-audit-2');
      return r.status === 200 && r.json['o-audit-1'] && r.json['o-audit-2'] ? r : undefined;
    }, 60_000, 100);
    expect(Object.keys(both.json).sort()).toEqual(['o-audit-1', 'o-audit-2']);
    const jd = await get('/api/tracking/shipments?orderIds=o-audit-1,o-audit-2', await tokenFor('customer_service', { shops: ['jd-flagship'] }));
    expect(jd.status).toBe(200);
    expect(Object.keys(jd.json)).toEqual(['o-audit-1']);
  });
});
