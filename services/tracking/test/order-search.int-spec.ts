import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { bootstrapService, PlatformModule, type RunningService } from '@flowline/platform';
import { authHeader, createTestDatabase, kafkaBrokers, testTopicPrefix, tokenFor, uniqueSuffix } from '@flowline/testing';
import { createKafka, EventPublisher } from '@flowline/messaging';
import type { EventEnvelope, TrackingCounts, TrackingOrderDetailView, TrackingOrderPage, TrackingShortageOrder, TrackingShortages } from '@flowline/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/infra/clock';
import { projectionFields, summaryFromRecord } from '../src/infra/row-mapping';
import { TrackingRuntime } from '../src/infra/tracking-runtime';
import { trackingMigrations } from '../src/infra/tracking-schema';
import { projectInMemory } from '../src/projections/in-memory.projection';
import { contextOf, TRACKED_TOPICS, type TrackedEvent } from '../src/projections/tracked-event';
import { SERVICE } from '../src/service';
import { TrackingModule } from '../src/tracking.module';
import { EventBuilder, placedData } from './fixtures/events';
import { eventually } from './fixtures/harness';

/*
 * Search by phone tail (尾号) and SKU (issue #17), through the in-process service over real Kafka
 * and PostgreSQL: each filter finds exactly its order, filters combine with the shop scope and the
 * cursor, a bad phone tail is a 400 naming the field, the v3 backfill equals the projection, and a
 * rebuild reproduces the new columns (same checksum, same answers).
 */

const T0 = '2026-03-02T01:00:00.000Z';
const MIN = 60_000;
const clock = new ManualClock(T0);
const prefix = testTopicPrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: RunningService;
let runtime: TrackingRuntime;
let publisher: EventPublisher;

const TEA_SHOP = 'taobao-xihu-tea-house'; // cs-taobao's shop
const JD_SHOP = 'jd-self-run'; // cs-jd's shop
const line = (lineId: string, sku: string) => ({ lineId, sku, title: sku, quantity: 1, unitPrice: 1000, lineDiscount: 0 });
const totals = { itemsTotal: 2000, shippingFee: 0, orderDiscount: 0, grandTotal: 2000, currency: 'CNY' };

const b = new EventBuilder(T0, MIN, 'search');
const events: TrackedEvent[] = [
  // o-tea: phone tail 1234, SKUs TEA-250 and CUP-01; later changed to TEA-250 and POT-9.
  b.event('OrderPlaced', placedData('o-tea', { shopId: TEA_SHOP, customer: { nickname: '小明', phoneMasked: '138****1234', tags: [] }, lines: [line('l1', 'TEA-250'), line('l2', 'CUP-01')], totals }, b.now())),
  // o-jd: phone tail 5678 (only in the address), SKU CUP-01 too, another shop.
  b.event('OrderPlaced', placedData('o-jd', { channel: 'jd', shopId: JD_SHOP, customer: { nickname: '老王', tags: [] }, shippingAddress: { province: '北京市', city: '北京市', district: '朝阳区', phoneMasked: '139****5678' }, lines: [line('l1', 'CUP-01')], totals }, b.now())),
  // o-tea-2: the same phone tail 1234 as o-tea, in the same shop, placed later (paging).
  b.event('OrderPlaced', placedData('o-tea-2', { shopId: TEA_SHOP, customer: { nickname: '小红', phoneMasked: '186****1234', tags: [] }, lines: [line('l1', 'MUG-7')], totals }, b.now())),
];
const change = b.event('OrderChanged', {
  orderId: 'o-tea', approvalId: 'ap-1', changeRequestId: 'cr-1', lines: [line('l1', 'TEA-250'), line('l3', 'POT-9')], totals,
  changes: { added: ['l3'], removed: ['l2'], quantities: [] }, priceDifference: 0,
});

// Orders waiting for stock (缺货), published by the shortage test: no phone, SKUs of their own, so
// the searches above keep their answers. o-short-3 was short, then resolved (tried again).
const noPhone = { customer: { nickname: '缺货客', tags: [] }, shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', phoneMasked: '' } };
const shortLine = (sku: string, requested: number, available: number) => ({ sku, requested, available });
const shortEvents: TrackedEvent[] = (() => {
  const s = new EventBuilder('2026-03-02T02:00:00.000Z', MIN, 'short');
  const waiting = (orderId: string, channel: 'taobao' | 'jd', shopId: string, missing: ReturnType<typeof shortLine>[]) => [
    s.event('OrderPlaced', placedData(orderId, { channel, shopId, ...noPhone, lines: missing.map((m, i) => line(`l${i + 1}`, m.sku)), totals }, s.now())),
    s.event('OrderPaid', { orderId, amount: 2000, currency: 'CNY', paidAt: s.now() }),
    s.event('OrderStockShortage', { orderId, missing }),
    s.event('OrderExceptionFlagged', { orderId, code: 'STOCK_SHORTAGE', reason: 'inventory could not reserve every line', details: { missing } }),
  ];
  return [
    ...waiting('o-short-1', 'taobao', TEA_SHOP, [shortLine('SHORT-A', 2, 0)]),
    ...waiting('o-short-2', 'jd', JD_SHOP, [shortLine('SHORT-A', 1, 0), shortLine('SHORT-B', 3, 1)]),
    ...waiting('o-short-3', 'taobao', TEA_SHOP, [shortLine('SHORT-A', 5, 0)]),
    s.event('OrderExceptionResolved', { orderId: 'o-short-3', reason: '已到货，重新预占' }),
    // An approved change while waiting: SHORT-A left out, SHORT-B now 4 units on two lines.
    ...waiting('o-short-4', 'taobao', TEA_SHOP, [shortLine('SHORT-A', 2, 0), shortLine('SHORT-B', 1, 0)]),
    s.event('OrderChanged', {
      orderId: 'o-short-4', approvalId: 'ap-4', changeRequestId: 'cr-4', lines: [{ ...line('l1', 'SHORT-B'), quantity: 3 }, line('l2', 'SHORT-B')], totals,
      changes: { added: [], removed: [], quantities: [] }, priceDifference: 0,
    }),
    // Reserved after all (a redelivered request), the exception still open: not waiting.
    ...waiting('o-short-5', 'taobao', TEA_SHOP, [shortLine('SHORT-A', 1, 0)]),
    s.event('OrderStockReserved', { orderId: 'o-short-5', reservationId: 'r-5', allocations: [] }),
    // Held: still short, but a restock would not move it, so the list leaves it out.
    ...waiting('o-short-6', 'jd', JD_SHOP, [shortLine('SHORT-A', 7, 0)]),
    s.event('OrderPutOnHold', { orderId: 'o-short-6', reason: '等客户确认' }),
    // Short of SHORT-C, tried again, now short of SHORT-D: only the latest shortage counts.
    ...waiting('o-short-7', 'taobao', TEA_SHOP, [shortLine('SHORT-C', 3, 0)]),
    s.event('OrderExceptionResolved', { orderId: 'o-short-7', reason: '已到货' }),
    s.event('OrderStockShortage', { orderId: 'o-short-7', missing: [shortLine('SHORT-D', 1, 0)] }),
    s.event('OrderExceptionFlagged', { orderId: 'o-short-7', code: 'STOCK_SHORTAGE', reason: 'inventory could not reserve every line', details: { missing: [shortLine('SHORT-D', 1, 0)] } }),
    // Its latest shortage names no well-formed line: nothing listed (not the earlier one).
    ...waiting('o-short-8', 'taobao', TEA_SHOP, [shortLine('SHORT-C', 2, 0)]),
    s.event('OrderExceptionResolved', { orderId: 'o-short-8', reason: '已到货' }),
    s.event('OrderStockShortage', { orderId: 'o-short-8', missing: [{ sku: 'SHORT-C', requested: 'two', available: 0 }] as never }),
    // Another exception was open when inventory refused: it stays the one to resolve, so the
    // shortage list (whose action resolves the exception) leaves the order out.
    s.event('OrderPlaced', placedData('o-short-9', { channel: 'jd', shopId: JD_SHOP, ...noPhone, lines: [line('l1', 'SHORT-D')], totals }, s.now())),
    s.event('OrderPaid', { orderId: 'o-short-9', amount: 2000, currency: 'CNY', paidAt: s.now() }),
    s.event('OrderExceptionFlagged', { orderId: 'o-short-9', code: 'ADDRESS_CHECK', reason: '地址待核实' }),
    s.event('OrderStockShortage', { orderId: 'o-short-9', missing: [shortLine('SHORT-D', 2, 0)] }),
    // Paid last, with the smallest id: waits behind the others for SHORT-A.
    ...waiting('o-short-0', 'taobao', TEA_SHOP, [shortLine('SHORT-A', 1, 0)]),
  ];
})();
const SHORT_EVENT_COUNTS: [string, number][] = [
  ['o-short-1', 4], ['o-short-2', 4], ['o-short-3', 5], ['o-short-4', 5], ['o-short-5', 5], ['o-short-6', 5], ['o-short-7', 7], ['o-short-8', 6], ['o-short-9', 4], ['o-short-0', 4],
];
let shortPublished: Promise<void> | undefined;
/** Publishes the shortage orders once (the tests after the searches use them) and waits until tracking has them. */
function withShortEvents(): Promise<void> {
  shortPublished ??= (async () => {
    await publish(shortEvents);
    for (const [orderId, n] of SHORT_EVENT_COUNTS) await waitForOrder(orderId, (d) => d.order.eventCount === n);
  })();
  return shortPublished;
}

async function publish(list: TrackedEvent[]): Promise<void> {
  await publisher.publish(list.map((e) => ({ topic: TRACKED_TOPICS[contextOf(e.type)!], key: (e.data as { orderId: string }).orderId, envelope: e as EventEnvelope })));
}

async function ids(query: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fetch(`${svc.httpUrl}/api/tracking/orders?${query}`, { headers });
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as TrackingOrderPage).items.map((o) => o.orderId);
}

async function waitForOrder(orderId: string, cond: (d: TrackingOrderDetailView) => boolean): Promise<void> {
  await eventually(`order ${orderId}`, async () => {
    const res = await fetch(`${svc.httpUrl}/api/tracking/orders/${orderId}`);
    return res.status === 200 && cond((await res.json()) as TrackingOrderDetailView) ? true : undefined;
  }, 30_000, 100);
}

beforeAll(async () => {
  db = await createTestDatabase('tracking_search');
  @Module({
    imports: [
      PlatformModule.forRoot({ serviceName: 'tracking', database: { url: db.url }, kafka: { brokers: kafkaBrokers() } }),
      TrackingModule.forRoot({ clock, config: { topicPrefix: prefix, consumerGroup: `tracking-search-${uniqueSuffix()}`, topicPartitions: 3, clockIntervalMs: 0 } }),
    ],
  })
  class TestAppModule {}
  svc = await bootstrapService({ name: 'tracking', module: TestAppModule, httpPort: 0, grpcPort: 0, grpcPackages: SERVICE.grpcPackages, host: '127.0.0.1', shutdownHooks: false });
  runtime = svc.app.get(TrackingRuntime);
  publisher = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-search-test' }), topicPrefix: prefix });
  await publisher.connect();
  await publish([...events, change]);
  await waitForOrder('o-tea', (d) => d.order.eventCount === 2);
  await waitForOrder('o-jd', () => true);
  await waitForOrder('o-tea-2', () => true);
}, 120_000);

afterAll(async () => {
  await publisher?.disconnect();
  await svc?.close();
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-search-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  await db?.drop();
});

/** Every search the console makes, with the answers the three orders must give. */
async function expectSearches(): Promise<void> {
  expect(await ids('phoneTail=1234')).toEqual(['o-tea-2', 'o-tea']);
  expect(await ids('phoneTail=5678')).toEqual(['o-jd']);
  expect(await ids('phoneTail=0000')).toEqual([]);
  // The SKUs follow the applied change: CUP-01 left o-tea, POT-9 came in.
  expect(await ids('sku=CUP-01')).toEqual(['o-jd']);
  expect(await ids('sku=POT-9')).toEqual(['o-tea']);
  expect(await ids('sku=TEA-250')).toEqual(['o-tea']);
  expect(await ids('sku=TEA')).toEqual([]); // exact, not a prefix
  // The search box: four digits are a phone tail; otherwise ids, masked customer or one SKU.
  expect(await ids('q=5678')).toEqual(['o-jd']);
  expect(await ids('q=MUG-7')).toEqual(['o-tea-2']);
  expect(await ids('q=o-jd')).toEqual(['o-jd']);
  // Filters combine.
  expect(await ids('phoneTail=1234&sku=MUG-7')).toEqual(['o-tea-2']);
  expect(await ids('phoneTail=5678&sku=MUG-7')).toEqual([]);
  expect(await ids('phoneTail=1234&channel=jd')).toEqual([]);
}

describe('order search by phone tail and SKU (real Kafka and PostgreSQL)', () => {
  it('each filter finds exactly its orders, the search box reads four digits as a phone tail, and filters combine', async () => {
    await expectSearches();
  });

  it('keeps only the last four digits of the phone in the read model, never the number', async () => {
    const rows = (await runtime.pool.query('SELECT "order_id", "phone_tail", "skus", "customer_phone_masked" FROM tracking.order_summary ORDER BY "order_id"')).rows;
    expect(rows).toEqual([
      { order_id: 'o-jd', phone_tail: '5678', skus: ['CUP-01'], customer_phone_masked: '139****5678' },
      { order_id: 'o-tea', phone_tail: '1234', skus: ['POT-9', 'TEA-250'], customer_phone_masked: '138****1234' },
      { order_id: 'o-tea-2', phone_tail: '1234', skus: ['MUG-7'], customer_phone_masked: '186****1234' },
    ]);
  });

  it('pages a filtered list with the cursor, newest first', async () => {
    const page = async (query: string) => {
      const res = await fetch(`${svc.httpUrl}/api/tracking/orders?${query}`);
      return (await res.json()) as TrackingOrderPage;
    };
    const p1 = await page('phoneTail=1234&limit=1');
    expect(p1.items.map((o) => o.orderId)).toEqual(['o-tea-2']);
    const p2 = await page(`phoneTail=1234&limit=1&cursor=${p1.nextCursor}`);
    expect(p2.items.map((o) => o.orderId)).toEqual(['o-tea']);
    expect(p2.nextCursor).toBeNull();
  });

  it('answers 400 naming the field for a phone tail that is not exactly four digits', async () => {
    for (const bad of ['123', '12345', '12a4', '%20123']) {
      const res = await fetch(`${svc.httpUrl}/api/tracking/orders?phoneTail=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toContain('phoneTail');
    }
  });

  it('a shop-scoped user never sees matches outside their shops', async () => {
    const csJd = await authHeader('customer_service', { user: 'cs-jd' });
    const csTaobao = await authHeader('customer_service', { user: 'cs-taobao' });
    const teaOnly = { authorization: `Bearer ${await tokenFor('customer_service', { user: 'cs-taobao', shops: [TEA_SHOP] })}` };
    expect(await ids('phoneTail=1234', csJd)).toEqual([]);
    expect(await ids('sku=CUP-01', csJd)).toEqual(['o-jd']);
    expect(await ids('q=1234', csJd)).toEqual([]);
    expect(await ids('sku=CUP-01', csTaobao)).toEqual([]);
    expect(await ids('phoneTail=5678', csTaobao)).toEqual([]);
    expect(await ids('phoneTail=1234', csTaobao)).toEqual(['o-tea-2', 'o-tea']);
    expect(await ids('sku=POT-9', teaOnly)).toEqual(['o-tea']);
    expect(await ids('sku=CUP-01', teaOnly)).toEqual([]);
  });

  it('a user of several shops gets full pages: the scope is in the query, not applied after the limit', async () => {
    // Newest first the list is o-tea-2, o-jd, o-tea; o-jd is outside these two shops.
    const twoShops = { authorization: `Bearer ${await tokenFor('customer_service', { user: 'cs-taobao', shops: [TEA_SHOP, 'tmall-flagship'] })}` };
    const res = await fetch(`${svc.httpUrl}/api/tracking/orders?limit=2`, { headers: twoShops });
    const page = (await res.json()) as TrackingOrderPage;
    expect(page.items.map((o) => o.orderId)).toEqual(['o-tea-2', 'o-tea']);
    expect(page.nextCursor).toBeNull();
  });

  it('counts every open order in groups (channel, shop, stage, colour, flags), in the scope, not a page of them', async () => {
    const counts = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${svc.httpUrl}/api/tracking/counts?${query}`, { headers });
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`);
      return (await res.json()) as TrackingCounts;
    };
    const all = await counts('');
    expect(all.stages).toEqual(['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed', 'shipped']);
    expect(all.at).toBe(clock.now().toISOString());
    // The three orders are placed: two in the tea house (taobao), one at JD.
    const key = (g: TrackingCounts['groups'][number]) => `${g.channel}/${g.shopId}/${g.stage}/${g.onHold}/${g.exception}/${g.stuck}:${g.count}`;
    expect(all.groups.map(key)).toEqual([`jd/${JD_SHOP}/placed/false/false/false:1`, `taobao/${TEA_SHOP}/placed/false/false/false:2`]);
    expect(all.groups.every((g) => ['green', 'yellow', 'red', 'none'].includes(g.sla))).toBe(true);
    expect((await counts('channel=jd')).groups.map(key)).toEqual([`jd/${JD_SHOP}/placed/false/false/false:1`]);
    expect((await counts('stage=paid,shipped')).groups).toEqual([]);
    // The scope is the query's: cs-jd counts JD only, and asking for another shop counts nothing.
    const csJd = await authHeader('customer_service', { user: 'cs-jd' });
    expect((await counts('', csJd)).groups.map(key)).toEqual([`jd/${JD_SHOP}/placed/false/false/false:1`]);
    expect((await counts(`shopId=${TEA_SHOP}`, csJd)).groups).toEqual([]);
    const bad = await fetch(`${svc.httpUrl}/api/tracking/counts?stage=lost`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('stage');
  });

  it('lists the SKUs open orders wait for (缺货) and, per SKU, the waiting orders longest first, in the scope', async () => {
    await withShortEvents();
    const get = async <T>(path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${svc.httpUrl}/api/tracking/${path}`, { headers });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const paidAt = (orderId: string) => shortEvents.find((e) => e.type === 'OrderPaid' && (e.data as { orderId: string }).orderId === orderId)!.data as { paidAt: string };
    const all = await get<TrackingShortages>('shortages');
    // o-short-3 was resolved (the reservation is tried again) and o-short-5 reserved: not waiting.
    // o-short-6 is held; o-short-9's open exception is another one; o-short-8's latest shortage is
    // malformed. o-short-4's change left SHORT-A out and made SHORT-B 4 units; o-short-7 now waits
    // for SHORT-D, not SHORT-C.
    expect(all.orders).toBe(5);
    expect(all.skus).toEqual([
      { sku: 'SHORT-A', orders: 3, unitsRequested: 4, waitingSince: paidAt('o-short-1').paidAt },
      { sku: 'SHORT-B', orders: 2, unitsRequested: 7, waitingSince: paidAt('o-short-2').paidAt },
      { sku: 'SHORT-D', orders: 1, unitsRequested: 1, waitingSince: paidAt('o-short-7').paidAt },
    ]);
    const waitingA = await get<TrackingShortageOrder[]>('shortages/orders?sku=SHORT-A');
    expect(waitingA.map((o) => [o.orderId, o.requested, o.available])).toEqual([['o-short-1', 2, 0], ['o-short-2', 1, 0], ['o-short-0', 1, 0]]);
    expect(waitingA[1]).toMatchObject({ channel: 'jd', shopId: JD_SHOP, missing: [shortLine('SHORT-A', 1, 0), shortLine('SHORT-B', 3, 1)] });
    expect(await get<TrackingShortageOrder[]>('shortages/orders?sku=SHORT-A&limit=1')).toHaveLength(1);
    expect(await get<TrackingShortageOrder[]>('shortages/orders?sku=SHORT-C')).toEqual([]);
    // Filters and the scope: JD only for cs-jd; another shop asked for gives nothing.
    expect((await get<TrackingShortages>('shortages?channel=taobao')).skus).toEqual([
      { sku: 'SHORT-A', orders: 2, unitsRequested: 3, waitingSince: paidAt('o-short-1').paidAt },
      { sku: 'SHORT-B', orders: 1, unitsRequested: 4, waitingSince: paidAt('o-short-4').paidAt },
      { sku: 'SHORT-D', orders: 1, unitsRequested: 1, waitingSince: paidAt('o-short-7').paidAt },
    ]);
    const csJd = await authHeader('customer_service', { user: 'cs-jd' });
    const jd = await get<TrackingShortages>('shortages', csJd);
    expect([jd.orders, jd.skus.map((k) => `${k.sku}:${k.orders}/${k.unitsRequested}`)]).toEqual([1, ['SHORT-A:1/1', 'SHORT-B:1/3']]);
    expect(await get<TrackingShortages>(`shortages?shopId=${TEA_SHOP}`, csJd)).toMatchObject({ orders: 0, skus: [] });
    expect((await get<TrackingShortageOrder[]>('shortages/orders?sku=SHORT-A', csJd)).map((o) => o.orderId)).toEqual(['o-short-2']);
    // Bad input: 400 naming the field.
    for (const [path, field] of [['shortages/orders', 'sku'], ['shortages/orders?sku=%20', 'sku'], ['shortages?limit=0', 'limit'], ['shortages?channel=ebay', 'channel']]) {
      const res = await fetch(`${svc.httpUrl}/api/tracking/${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.text(), path).toContain(field);
    }
  });

  it('the v5 migration fills the shortage lines of existing rows exactly as the projection does', async () => {
    await withShortEvents();
    const v5 = trackingMigrations('tracking').find((m) => m.version === 5)!;
    const expected = projectInMemory([...events, change, ...shortEvents], runtime.config.sla);
    const asText = async () => (await runtime.pool.query(`SELECT "order_id", "shortage"::text AS "s" FROM tracking.order_summary ORDER BY 1`)).rows;
    const projected = await asText();
    await runtime.pool.query(`UPDATE tracking.order_summary SET "shortage" = NULL`);
    for (const sql of v5.statements) await runtime.pool.query(sql);
    // The stored text too (jsonb 4, not 4.0): the rebuild checksum hashes it.
    expect(await asText()).toEqual(projected);
    const rows = (await runtime.pool.query('SELECT * FROM tracking.order_summary ORDER BY "order_id"')).rows.map((r) => projectionFields(summaryFromRecord(r)));
    expect(rows.map((r) => [r.orderId, r.shortage])).toEqual([...expected.summaries.values()].map((r) => [r.orderId, r.shortage]).sort());
    expect(rows.filter((r) => r.shortage).map((r) => r.orderId)).toEqual(['o-short-0', 'o-short-1', 'o-short-2', 'o-short-4', 'o-short-6', 'o-short-7', 'o-short-9']);
    expect(rows.find((r) => r.orderId === 'o-short-7')?.shortage).toEqual([shortLine('SHORT-D', 1, 0)]);
    expect(rows.find((r) => r.orderId === 'o-short-4')?.shortage).toEqual([shortLine('SHORT-B', 4, 0)]);
  });

  it('the v3 migration fills existing rows exactly as the projection does', async () => {
    await withShortEvents();
    const v3 = trackingMigrations('tracking').find((m) => m.version === 3)!;
    const expected = projectInMemory([...events, change, ...shortEvents], runtime.config.sla);
    await runtime.pool.query(`UPDATE tracking.order_summary SET "phone_tail" = NULL, "skus" = '{}'`);
    // The statements that fill the rows (the ALTERs and CREATE INDEXes are no-ops now).
    for (const sql of v3.statements) await runtime.pool.query(sql);
    const rows = (await runtime.pool.query('SELECT * FROM tracking.order_summary ORDER BY "order_id"')).rows.map((r) => projectionFields(summaryFromRecord(r)));
    expect(rows.map((r) => [r.orderId, r.phoneTail, r.skus])).toEqual([...expected.summaries.values()].map((r) => [r.orderId, r.phoneTail, r.skus]).sort());
  });

  it('a rebuild from the topics reproduces the columns: same checksum, same answers', { timeout: 150_000 }, async () => {
    await withShortEvents();
    await eventually('zero lag', async () => ((await runtime.projector!.measureLag()).every((l) => l.events === 0) ? true : undefined), 30_000, 200);
    const before = (await (await fetch(`${svc.httpUrl}/api/tracking/admin/checksum`)).json()) as { checksum: string };
    const started = await fetch(`${svc.httpUrl}/api/tracking/admin/rebuild`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ swap: true }) });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    await eventually('the rebuild', async () => {
      const s = (await (await fetch(`${svc.httpUrl}/api/tracking/admin/rebuild/${id}`)).json()) as { phase: string; error: string | null };
      if (s.phase === 'failed') throw new Error(s.error ?? 'failed');
      return s.phase === 'done' ? s : undefined;
    }, 110_000, 200);
    const after = (await (await fetch(`${svc.httpUrl}/api/tracking/admin/checksum`)).json()) as { checksum: string };
    expect(after.checksum).toBe(before.checksum);
    const cols = (await runtime.pool.query(`SELECT count(*)::int AS n FROM tracking.order_summary WHERE "phone_tail" IS NOT NULL AND cardinality("skus") > 0`)).rows[0];
    expect(cols.n).toBe(3);
    const short = (await runtime.pool.query(`SELECT "order_id" FROM tracking.order_summary WHERE "shortage" IS NOT NULL ORDER BY 1`)).rows;
    expect(short.map((r) => r.order_id)).toEqual(['o-short-0', 'o-short-1', 'o-short-2', 'o-short-4', 'o-short-6', 'o-short-7', 'o-short-9']);
    await expectSearches();
  });
});
