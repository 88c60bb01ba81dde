import { grpcClient, startServiceProcess, unary, type ServiceProcess } from '@flowline/platform';
import { anOrderSubmission, authHeader, createTestDatabase, grandTotalOf, kafkaBrokers, personaHeader, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Metadata } from '@grpc/grpc-js';
import type { TrackingOrderDetailView } from '@flowline/contracts';
import { createKafka } from '@flowline/messaging';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKuaidi100Fake, type Kuaidi100Fake } from './fakes/kuaidi100.fake-server';
import { startSfExpressFake, type SfFake } from './fakes/sf-express.fake-server';

/*
 * The order journey past ready_to_ship, each service its own process (node -r @swc-node/register
 * services/<svc>/src/main.ts) on its own database, one topic prefix: order-intake sends
 * StartFulfillment / StopFulfillment, fulfillment picks, packs and ships over its REST API, the
 * simulated carrier (one state every 600 ms here) delivers, and tracking shows it all.
 */

const prefix = testTopicPrefix();
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const procs: Record<string, ServiceProcess> = {};
let sf: SfFake;
let k100: Kuaidi100Fake;
const K100_CALLBACK = 'https://fulfillment.example.com/api/fulfillment/callbacks/kuaidi100';
const MES_SECRET = `whsec_${Buffer.from('flowline-e2e-mes-secret-0123456789').toString('base64')}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read loosely; the assertions check their shape
type Json = Record<string, any>;

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}

const intake = (method: string, path: string, body?: unknown) => call(procs['order-intake'].httpUrl, method, path, body, { 'idempotency-key': `k-${uniqueSuffix()}` });
const inventory = (method: string, path: string, body?: unknown) => call(procs.inventory.httpUrl, method, path, body);
const wh = (method: string, path: string, body?: unknown, key = `k-${uniqueSuffix()}`) =>
  call(procs.fulfillment.httpUrl, method, `/api/fulfillment${path}`, method === 'GET' ? undefined : (body ?? {}), method === 'GET' ? {} : { 'idempotency-key': key });

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 250, last?: () => unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last?.() ?? null).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Places and pays an order. Each order has a buyer of its own unless `buyer` is given: orders of
 * one buyer and address in tmall-flagship within 30 minutes share a parcel (合单, rules/merge-rules.yaml).
 */
async function placeAndPay(lines: { sku: string; quantity: number }[], to: { buyer?: string; detail?: string } = {}): Promise<string> {
  const base = anOrderSubmission();
  const submission = anOrderSubmission({
    channelOrderId: `TM${Date.now()}${uniqueSuffix()}`,
    customer: { ...base.customer, channelCustomerId: to.buyer ?? `buyer-${uniqueSuffix()}` },
    shippingAddress: { ...base.shippingAddress, ...(to.detail ? { detail: to.detail } : {}) },
    lines: lines.map((l, i) => ({ lineId: `L${i + 1}`, sku: l.sku, title: l.sku, quantity: l.quantity, unitPrice: 12800, lineDiscount: 0, category: 'tea' })),
  });
  const placed = await intake('POST', '/api/orders', submission);
  expect(placed.status, JSON.stringify(placed.json)).toBe(201);
  const orderId = placed.json.orderId as string;
  const paid = await intake('POST', `/api/orders/${orderId}/payments`, { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}` });
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
  return orderId;
}

async function tracked(orderId: string, until: (d: TrackingOrderDetailView) => boolean, what: string): Promise<TrackingOrderDetailView> {
  let seen: unknown;
  return eventually(
    what,
    async () => {
      const r = await call(procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
      if (r.status !== 200) return undefined;
      const d = r.json as unknown as TrackingOrderDetailView;
      seen = { stage: d.order.stage, flags: d.order.flags, timeline: d.timeline.map((t) => t.type) };
      return until(d) ? d : undefined;
    },
    90_000,
    250,
    () => seen,
  );
}

/** The order's parcels once fulfillment received StartFulfillment. */
async function parcels(orderId: string, until: (o: Json) => boolean = () => true): Promise<Json> {
  return eventually(`parcels of ${orderId}`, async () => {
    const r = await call(procs.fulfillment.httpUrl, 'GET', `/api/fulfillment/orders/${orderId}`);
    return r.status === 200 && until(r.json) ? r.json : undefined;
  });
}

/**
 * The order's parcels, ready for the warehouse now: every tmall-flagship order here is offered for
 * merging and opens a box of its own, held off the pick list for its 30-minute window (ADR 0013),
 * so a journey of one order releases it first (as a person would: 不等合单).
 */
async function pickable(orderId: string): Promise<Json> {
  const o = await parcels(orderId);
  for (const m of new Set((o.shipments as Json[]).map((x) => x.mergeParcelId as string | null).filter((x): x is string => !!x))) {
    const released = await wh('POST', `/shipments/${m}/release`, { reason: '不等合单' });
    expect(released.status, JSON.stringify(released.json)).toBe(200);
  }
  return o;
}

async function scanAndPack(shipment: Json): Promise<Json> {
  for (const line of shipment.lines as { sku: string; quantity: number }[]) {
    const scanned = await wh('POST', `/shipments/${shipment.shipmentId}/scans`, { sku: line.sku, quantity: line.quantity });
    expect(scanned.status, JSON.stringify(scanned.json)).toBe(200);
  }
  const packed = await wh('POST', `/shipments/${shipment.shipmentId}/pack`, {});
  expect(packed.status, JSON.stringify(packed.json)).toBe(200);
  return packed.json;
}

beforeAll(async () => {
  [sf, k100] = await Promise.all([startSfExpressFake(), startKuaidi100Fake()]);
  const carriers = {
    SF_EXPRESS_URL: sf.url,
    SF_EXPRESS_PARTNER_ID: sf.partnerId,
    SF_EXPRESS_CHECK_WORD: sf.checkWord,
    KUAIDI100_URL: k100.url,
    KUAIDI100_KEY: k100.key,
    KUAIDI100_SALT: 'e2e-salt',
    KUAIDI100_CALLBACK_URL: K100_CALLBACK,
  };
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const specs: [string, Record<string, string>][] = [
    ['inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }],
    ['order-intake', {}],
    ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-e2e-${uniqueSuffix()}` }],
    ['fulfillment', { FULFILLMENT_SIM_CARRIER_STEP_MS: '600', MES_CALLBACK_SECRET: MES_SECRET, FULFILLMENT_MADE_TO_ORDER_SKUS: 'CUSTOM-', ...carriers }],
  ];
  const start = async ([service, env]: [string, Record<string, string>]) => {
    const db = await createTestDatabase(`e2e_${service.replace('-', '_')}`);
    dbs.push(db);
    procs[service] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: db.url }, readyTimeoutMs: 120_000 });
  };
  // Fulfillment last: it receives returned units through inventory's URL.
  await Promise.all(specs.slice(0, 3).map(start));
  const [name, env] = specs[3];
  await start([name, { ...env, INVENTORY_URL: procs.inventory.httpUrl }]);
  for (const [id, name, priority] of [['WH-HZ-01', '杭州仓', 1], ['WH-SH-01', '上海仓', 2]] as const) {
    expect((await inventory('PUT', `/api/stock/warehouses/${id}`, { name, priority })).status).toBe(200);
  }
  for (const [sku, warehouseId] of [['TEA-LJ-250', 'WH-HZ-01'], ['CUP-CLAY-01', 'WH-SH-01'], ['TEA-RET-01', 'WH-HZ-01'], ['CUSTOM-ENGRAVE-01', 'WH-HZ-01']] as const) {
    expect((await inventory('PUT', `/api/stock/skus/${sku}`, { name: sku })).status).toBe(200);
    const received = await inventory('POST', '/api/stock/receipts', { sku, warehouseId, quantity: 100, reference: 'PO-E2E' });
    expect(received.status, JSON.stringify(received.json)).toBe(201);
  }
}, 300_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'fulfillment-e2e-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  for (const db of dbs) await db.drop();
  await Promise.all([sf?.close(), k100?.close()]);
}, 120_000);

describe('fulfillment across services, seen in tracking', () => {
  it('placed -> paid -> reserved -> ready_to_ship -> picked -> packed -> shipped -> delivered on the simulated carrier', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 2 }]);
    const o = await pickable(orderId);
    expect(o.shipments).toHaveLength(1);
    // TEA-LJ-250 weighs 300 g a unit (rules/sku-weights.yaml): the choice records the 600 g it was made with.
    expect(o.carrierChoice).toEqual({ carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.12.2', weightGrams: 600 });
    const [parcel] = o.shipments as Json[];
    expect(parcel).toMatchObject({ warehouseId: 'WH-HZ-01', status: 'created', lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2 }] });
    const pickList = await wh('GET', '/warehouses/WH-HZ-01/pick-list');
    expect(pickList.json.shipments.map((s: Json) => s.shipmentId)).toContain(parcel.shipmentId);
    // The platform's order number the warehouse reads (from StartFulfillment).
    const placed = (await intake('GET', `/api/orders/${orderId}`)).json;
    expect(pickList.json.shipments.find((s: Json) => s.shipmentId === parcel.shipmentId)).toMatchObject({ channelOrderId: placed.channelOrderId });

    expect((await wh('POST', `/shipments/${parcel.shipmentId}/pick`)).status).toBe(200);
    const wrong = await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'CUP-CLAY-01', quantity: 1 });
    expect(wrong.status).toBe(409);
    expect(wrong.json).toMatchObject({ code: 'SCAN_WRONG_SKU', details: { sku: 'CUP-CLAY-01', expected: ['TEA-LJ-250'] } });
    const tooMany = await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 3 });
    expect(tooMany.json).toMatchObject({ code: 'SCAN_QUANTITY_EXCEEDED' });
    const incomplete = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {});
    expect(incomplete.json).toMatchObject({ code: 'PACK_INCOMPLETE' });
    const badCarrier = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, { carrier: 'NOPE' });
    expect(badCarrier.json).toMatchObject({ code: 'CARRIER_NOT_CONFIGURED' });

    expect((await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 2 })).status).toBe(200);
    const key = `pack-${uniqueSuffix()}`;
    const packed = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {}, key);
    expect(packed.json).toMatchObject({ status: 'packed', carrier: 'SIM' });
    // The same Idempotency-Key replays the first reply; another body with it is refused.
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {}, key)).json).toEqual(packed.json);
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/pack`, { carrier: 'SIM' }, key)).status).toBe(422);
    const label = await wh('GET', `/shipments/${parcel.shipmentId}/label`);
    expect(label.json).toMatchObject({ waybillNo: packed.json.waybillNo, barcode: { value: packed.json.waybillNo }, weightGrams: 600 });
    expect((await wh('GET', `/orders/${orderId}/freeze`)).json).toMatchObject({ frozen: true });

    await tracked(orderId, (d) => d.order.stage === 'packed', 'packed in tracking');
    const shipped = await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {});
    expect(shipped.json).toMatchObject({ status: 'shipped', trackingNumber: packed.json.waybillNo });

    const order = ['OrderPlaced', 'OrderPaid', 'StockReserved', 'OrderReadyToShip', 'ShipmentPacked', 'OrderPacked', 'ShipmentShipped', 'OrderShipped', 'ShipmentDelivered', 'OrderDelivered'];
    // Tracking reads each topic on its own: wait for every line asserted, not only the stage.
    const d = await tracked(
      orderId,
      (x) => x.order.stage === 'delivered' && order.every((t) => x.timeline.some((e) => e.type === t)) && x.timeline.filter((e) => e.type === 'ShipmentTrackingUpdated').length === 4,
      'delivered in tracking',
    );
    const types = d.timeline.map((t) => t.type);
    for (const t of order) expect(types, t).toContain(t);
    for (let i = 1; i < order.length; i++) expect(types.indexOf(order[i - 1]), `${order[i - 1]} before ${order[i]}`).toBeLessThan(types.indexOf(order[i]));
    expect(types.filter((t) => t === 'ShipmentTrackingUpdated').length).toBe(4);
    // Who packed is the person of the verified token (the test's demo admin), not the service (issue #16).
    expect(d.timeline.find((t) => t.type === 'ShipmentPacked')?.actor).toMatchObject({ kind: 'user', id: 'admin' });
    const final = await parcels(orderId);
    expect(final.shipments[0]).toMatchObject({ status: 'delivered', carrierState: 'delivered' });
    // Tracking shows the parcel: carrier, waybill, tracking number, last carrier state.
    expect(d.shipments).toEqual([
      expect.objectContaining({
        shipmentId: parcel.shipmentId,
        warehouseId: 'WH-HZ-01',
        status: 'delivered',
        carrier: 'SIM',
        waybillNo: packed.json.waybillNo,
        trackingNumber: packed.json.waybillNo,
        lastCarrierState: 'delivered',
        shippedAt: final.shipments[0].shippedAt,
      }),
    ]);
    // The ready -> shipped segment ends at the handover fulfillment recorded.
    expect(d.order.shippedAt).toBe(final.shipments[0].shippedAt);
    expect(Date.parse(final.shipments[0].shippedAt)).toBeLessThan(Date.parse(final.shipments[0].deliveredAt));
  }, 180_000);

  it('a two-warehouse order ships in two parcels and is delivered when both are', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }, { sku: 'CUP-CLAY-01', quantity: 2 }]);
    const o = await parcels(orderId);
    expect(o.shipments.map((s: Json) => [s.warehouseId, s.lines.map((l: Json) => `${l.sku}x${l.quantity}`)])).toEqual([
      ['WH-HZ-01', ['TEA-LJ-250x1']],
      ['WH-SH-01', ['CUP-CLAY-01x2']],
    ]);
    const [a, b] = o.shipments as Json[];
    await scanAndPack(a);
    expect((await wh('POST', `/shipments/${a.shipmentId}/ship`, {})).status).toBe(200);
    // The first parcel travels alone: the order waits for the second before it is shipped (tracking
    // shows the first parcel shipped, from fulfillment.events, while the stage, from orders.events, is packed).
    await parcels(orderId, (x) => x.shipments[0].carrierState === 'in_transit');
    const first = await tracked(orderId, (x) => x.order.stage === 'packed' && x.shipments?.some((p) => p.shipmentId === a.shipmentId && p.shippedAt !== null) === true, 'first parcel shipped, order packed in tracking');
    expect(first.timeline.some((t) => t.type === 'OrderShipped')).toBe(false);
    await scanAndPack(b);
    expect((await wh('POST', `/shipments/${b.shipmentId}/ship`, {})).status).toBe(200);
    const d = await tracked(
      orderId,
      (x) =>
        x.order.stage === 'delivered' &&
        x.timeline.filter((t) => t.type === 'ShipmentShipped').length === 2 &&
        x.timeline.filter((t) => t.type === 'ShipmentDelivered').length === 2 &&
        x.shipments?.length === 2 &&
        x.shipments.every((p) => p.status === 'delivered'),
      'delivered in tracking, both parcels delivered in the shipments view',
    );
    const at = (type: string, n = 0) => d.timeline.map((t, i) => (t.type === type ? i : -1)).filter((i) => i >= 0)[n];
    expect(at('OrderShipped')).toBeGreaterThan(at('ShipmentShipped', 1));
    expect(at('OrderDelivered')).toBeGreaterThan(at('ShipmentDelivered', 1));
    expect(d.timeline.filter((t) => t.type === 'OrderShipped')).toHaveLength(1);
    expect(d.shipments?.map((x) => [x.warehouseId, x.status])).toEqual([
      ['WH-HZ-01', 'delivered'],
      ['WH-SH-01', 'delivered'],
    ]);
  }, 180_000);

  it('a cancel before packing stops the parcel: withdrawn from the pick list, packing refused', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    const [parcel] = (await pickable(orderId)).shipments as Json[];
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 1 })).status).toBe(200);
    expect((await intake('POST', `/api/orders/${orderId}/cancel`, { reason: '买家要求取消' })).status).toBe(200);
    const stopped = await parcels(orderId, (x) => x.shipments[0].status === 'stopped');
    expect(stopped.stop).toMatchObject({ reason: '买家要求取消' });
    const pickList = await wh('GET', '/warehouses/WH-HZ-01/pick-list');
    expect(pickList.json.shipments.map((s: Json) => s.shipmentId)).not.toContain(parcel.shipmentId);
    const pack = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {});
    expect(pack.status).toBe(409);
    expect(pack.json).toMatchObject({ code: 'SHIPMENT_STOPPED' });
    const d = await tracked(orderId, (x) => x.order.stage === 'cancelled' && x.timeline.some((t) => t.type === 'FulfillmentStopped') && x.timeline.some((t) => t.type === 'StockReleased'), 'stopped in tracking');
    expect(d.order.stage).toBe('cancelled');
  }, 120_000);

  it('a hold (挂起) after release reaches the warehouse: off the pick list, pick / pack / ship refused naming the hold, no waybill; released, it goes on where it stopped', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    const [parcel] = (await pickable(orderId)).shipments as Json[];
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 1 })).status).toBe(200);
    const holdIt = async () => {
      const held = await intake('POST', `/api/orders/${orderId}/holds`, { reason: '买家要求暂缓发货' });
      expect(held.status, JSON.stringify(held.json)).toBe(200);
      return parcels(orderId, (x) => x.hold !== null);
    };
    const release = async () => {
      expect((await intake('POST', `/api/orders/${orderId}/holds/release`, { reason: '买家确认发货' })).status).toBe(200);
      return parcels(orderId, (x) => x.hold === null);
    };
    const o = await holdIt();
    expect(o.hold).toMatchObject({ reason: 'on hold: 买家要求暂缓发货' });
    expect(o.shipments[0]).toMatchObject({ status: 'picking', holdReason: 'on hold: 买家要求暂缓发货' });
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).not.toContain(parcel.shipmentId);
    const refused = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {});
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ code: 'FULFILLMENT_ON_HOLD', details: { reason: 'on hold: 买家要求暂缓发货' } });
    expect((await parcels(orderId)).shipments[0].waybillNo).toBeNull();

    await release();
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).toContain(parcel.shipmentId);
    const packed = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {});
    expect(packed.status, JSON.stringify(packed.json)).toBe(200);
    await tracked(orderId, (x) => x.order.stage === 'packed', 'packed in tracking');

    // Held again once packed: the parcel stays in the warehouse until released.
    await holdIt();
    const ship = await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {});
    expect(ship.status).toBe(409);
    expect(ship.json).toMatchObject({ code: 'FULFILLMENT_ON_HOLD' });
    await release();
    const shipped = await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {});
    expect(shipped.status, JSON.stringify(shipped.json)).toBe(200);
    await tracked(orderId, (x) => x.order.stage === 'shipped' || x.order.stage === 'delivered', 'shipped in tracking');
  }, 150_000);

  it('a cancel after packing raises an intercept: confirmed -> stopped; rejected -> shipped after the stop; the ledger stays consistent', async () => {
    const confirmedId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    const rejectedId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    for (const orderId of [confirmedId, rejectedId]) {
      const [parcel] = (await pickable(orderId)).shipments as Json[];
      await scanAndPack(parcel);
      await tracked(orderId, (d) => d.order.stage === 'packed', 'packed in tracking');
      expect((await intake('POST', `/api/orders/${orderId}/cancel`, { reason: '买家要求取消' })).status).toBe(200);
      await parcels(orderId, (x) => x.shipments[0].status === 'intercept_requested');
      const ship = await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {});
      expect(ship.json).toMatchObject({ code: 'INTERCEPT_PENDING' });
      // The packed units stay reserved while the parcel may still leave: nobody else can buy them.
      await tracked(orderId, (d) => d.order.stage === 'cancelled', 'cancelled in tracking');
      expect((await inventory('GET', `/api/stock/reservations/${orderId}`)).json.reservation).toMatchObject({ status: 'reserved' });
      if (orderId === confirmedId) {
        expect((await wh('POST', `/shipments/${parcel.shipmentId}/intercept/confirm`)).json).toMatchObject({ status: 'stopped' });
      } else {
        expect((await wh('POST', `/shipments/${parcel.shipmentId}/intercept/reject`)).json).toMatchObject({ status: 'shipped', shippedAfterStop: true });
      }
    }
    const has = (x: TrackingOrderDetailView, types: string[]) => types.every((t) => x.timeline.some((e) => e.type === t));
    const c = await tracked(confirmedId, (x) => has(x, ['ShipmentInterceptRequested', 'FulfillmentStopped', 'StockReleased']), 'intercept confirmed in tracking');
    expect(c.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['ShipmentInterceptRequested', 'FulfillmentStopped', 'StockReleased']));
    expect(c.timeline.find((t) => t.type === 'FulfillmentStopped')?.what.zh).toContain('拆包回库');
    // Rejected: the parcel left after the cancel -> order-intake flags SHIPPED_AFTER_CANCEL and inventory records the stock that left.
    const r = await tracked(
      rejectedId,
      (x) => x.order.exceptionCode === 'SHIPPED_AFTER_CANCEL' && has(x, ['ShipmentInterceptRequested', 'ShipmentShipped', 'OrderExceptionFlagged']),
      'shipped after cancel in tracking',
    );
    expect(r.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['ShipmentInterceptRequested', 'ShipmentShipped', 'OrderExceptionFlagged']));
    expect(r.order.stage).toBe('cancelled');
    // Pulled: released; gone: committed (never released, so never sold twice in between).
    expect((await inventory('GET', `/api/stock/reservations/${confirmedId}`)).json.reservation).toMatchObject({ status: 'released' });
    const committed = await eventually('rejected order committed', async () => {
      const res = (await inventory('GET', `/api/stock/reservations/${rejectedId}`)).json.reservation;
      return res?.status === 'committed' ? res : undefined;
    });
    expect(committed.status).toBe('committed');
    expect(r.timeline.map((t) => t.type)).not.toContain('StockReleased');
    const verify = await inventory('GET', '/api/stock/verify');
    expect(verify.json).toMatchObject({ consistent: true, drifts: [] });
  }, 180_000);

  it('SF Express chosen by the rules (high value), its waybill, Kuaidi100 pushes into the service: tampered refused, duplicates and older states ignored, delivered', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 16 }]);
    const o = await pickable(orderId);
    expect(o.carrierChoice).toEqual({ carrier: 'SF', ruleId: 'high-value-sf', ruleSetVersion: '2026.12.2', weightGrams: 4800 });
    const [parcel] = o.shipments as Json[];
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 16 })).status).toBe(200);
    const packed = await wh('POST', `/shipments/${parcel.shipmentId}/pack`, {});
    expect(packed.json).toMatchObject({ status: 'packed', carrier: 'SF' });
    expect(sf.waybills).toContain(packed.json.waybillNo);
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {})).json).toMatchObject({ status: 'shipped', trackingNumber: packed.json.waybillNo });
    const number = packed.json.waybillNo as string;
    expect(k100.subscriptions.get(number)).toEqual({ company: 'shunfeng', callbackurl: K100_CALLBACK, salt: 'e2e-salt' });

    const to = `${procs.fulfillment.httpUrl}/api/fulfillment/callbacks/kuaidi100`;
    const tampered = await k100.push(number, '1', '顺丰速运 已收取快件', { to, tamper: true });
    expect(tampered.status).toBe(400);
    expect(tampered.body).toMatchObject({ result: false });
    expect((await parcels(orderId)).shipments[0].status).toBe('shipped');

    for (const [state, context] of [['1', '顺丰速运 已收取快件'], ['0', '快件已到达【杭州转运中心】'], ['0', '快件已到达【杭州转运中心】'], ['5', '快递员正在派件'], ['1', '顺丰速运 已收取快件']]) {
      const r = await k100.push(number, state, context, { to });
      expect(r, `push ${state}`).toEqual({ status: 200, body: { result: true, returnCode: '200', message: '成功' } });
    }
    const out = await parcels(orderId, (x) => x.shipments[0].carrierState === 'out_for_delivery');
    expect(out.shipments[0].status).toBe('in_transit');
    expect((await k100.push(number, '3', '已签收，签收人：本人', { to })).status).toBe(200);
    const d = await tracked(orderId, (x) => x.order.stage === 'delivered' && x.timeline.filter((t) => t.type === 'ShipmentTrackingUpdated').length >= 4, 'delivered in tracking');
    // picked up, in transit, out for delivery, delivered: the repeated and the older pushes added nothing.
    expect(d.timeline.filter((t) => t.type === 'ShipmentTrackingUpdated').map((t) => t.what.zh)).toEqual([
      `物流更新（SF ${number}）：顺丰速运 已收取快件`,
      `物流更新（SF ${number}）：快件已到达【杭州转运中心】`,
      `物流更新（SF ${number}）：快递员正在派件`,
      `物流更新（SF ${number}）：已签收，签收人：本人`,
    ]);
    // The board's parcel line: carrier, waybill / tracking number and the last carrier state, for several orders at once.
    // (tracking reads each topic on its own: poll until the parcel's ShipmentDelivered line is in.)
    const board = await eventually('the parcel delivered on the board', async () => {
      const r = await call(procs.tracking.httpUrl, 'GET', `/api/tracking/shipments?orderIds=${orderId},ORD-NOT-SHIPPED`);
      return r.status === 200 && r.json[orderId]?.[0]?.status === 'delivered' ? r : undefined;
    });
    expect(Object.keys(board.json)).toEqual([orderId]);
    expect(board.json[orderId]).toMatchObject([{ carrier: 'SF', waybillNo: number, trackingNumber: number, lastCarrierState: 'delivered', lastCarrierDescription: '已签收，签收人：本人', status: 'delivered' }]);
    expect((await call(procs.tracking.httpUrl, 'GET', '/api/tracking/shipments')).status).toBe(400);
  }, 120_000);

  it('a return after delivery: resellable units restocked through an inventory receipt, damaged written off, ledger clean', async () => {
    const onHand = async () => (await inventory('GET', '/api/stock/skus/TEA-RET-01/warehouses/WH-HZ-01')).json.onHand as number;
    const orderId = await placeAndPay([{ sku: 'TEA-RET-01', quantity: 3 }]);
    const [parcel] = (await pickable(orderId)).shipments as Json[];
    await scanAndPack(parcel);
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/ship`, {})).status).toBe(200);
    const early = await wh('POST', `/shipments/${parcel.shipmentId}/returns`, { lines: [{ sku: 'TEA-RET-01', quantity: 1 }], reason: '七天无理由退货' });
    expect(early.json).toMatchObject({ code: 'RETURN_NOT_ALLOWED' });
    await tracked(orderId, (d) => d.order.stage === 'delivered', 'delivered in tracking');
    await eventually('stock committed on shipment', async () => ((await onHand()) === 97 ? true : undefined));

    const rma = await wh('POST', `/shipments/${parcel.shipmentId}/returns`, { rmaId: `RMA-${uniqueSuffix()}`, lines: [{ sku: 'TEA-RET-01', quantity: 2 }], reason: '七天无理由退货' });
    expect(rma.status, JSON.stringify(rma.json)).toBe(201);
    expect(rma.json).toMatchObject({ status: 'requested', expected: [{ sku: 'TEA-RET-01', quantity: 2 }] });
    const tooMany = await wh('POST', `/orders/${orderId}/returns/${rma.json.rmaId}/receive`, { lines: [{ sku: 'TEA-RET-01', quantity: 3, condition: 'resellable' }] });
    expect(tooMany.json).toMatchObject({ code: 'RETURN_QUANTITY_EXCEEDED' });
    const received = await wh('POST', `/orders/${orderId}/returns/${rma.json.rmaId}/receive`, {
      lines: [
        { sku: 'TEA-RET-01', quantity: 1, condition: 'resellable' },
        { sku: 'TEA-RET-01', quantity: 1, condition: 'damaged' },
      ],
    });
    expect(received.json).toMatchObject({ status: 'received' });
    await eventually('the resellable unit back on hand', async () => ((await onHand()) === 98 ? true : undefined));
    const d = await tracked(orderId, (x) => x.timeline.some((t) => t.type === 'ReturnReceived'), 'return in tracking');
    expect(d.timeline.find((t) => t.type === 'ReturnReceived')?.what.zh).toContain('TEA-RET-01×1（可售，回库）');
    expect((await inventory('GET', '/api/stock/verify')).json).toMatchObject({ consistent: true, drifts: [] });
    // Received once: the receipt is keyed by the RMA, a second look finds the same stock.
    expect(await onHand()).toBe(98);
    // order-intake records the refund of the two returned units (12800 each, whatever their condition);
    // finance confirms it and the order keeps its stage with the refunded total.
    const refund = await eventually('the return refund on the order', async () => {
      const r = await intake('GET', `/api/orders/${orderId}`);
      return r.json.refund?.pending ? (r.json.refund as Json) : undefined;
    });
    expect(refund.pending).toMatchObject({ amount: 25600, reason: `return ${rma.json.rmaId} received (TEA-RET-01 x2)` });
    const confirmed = await intake('POST', `/api/orders/${orderId}/refunds/confirm`, { amount: 25600 });
    expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
    const after = await intake('GET', `/api/orders/${orderId}`);
    expect(after.json).toMatchObject({ stage: 'delivered', refund: { pending: null, refundedTotal: 25600 } });
  }, 120_000);

  it('a made-to-order line waits for the factory: signed MES progress on the timeline, tampered refused, completed releases the parcel to picking', async () => {
    const orderId = await placeAndPay([{ sku: 'CUSTOM-ENGRAVE-01', quantity: 1 }]);
    const [parcel] = (await parcels(orderId)).shipments as Json[];
    expect(parcel.status).toBe('awaiting_production');
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).not.toContain(parcel.shipmentId);
    expect((await wh('POST', `/shipments/${parcel.shipmentId}/scans`, { sku: 'CUSTOM-ENGRAVE-01', quantity: 1 })).json).toMatchObject({ code: 'PRODUCTION_PENDING' });

    const mes = new Webhook(MES_SECRET);
    const send = async (body: Record<string, unknown>, tamper = false) => {
      const raw = JSON.stringify(body);
      const id = `msg_${uniqueSuffix()}`;
      const now = new Date();
      const signature = mes.sign(id, now, raw);
      const res = await fetch(`${procs.fulfillment.httpUrl}/api/fulfillment/callbacks/mes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
        body: tamper ? raw.replace('"in_production"', '"completed"') : raw,
      });
      return { status: res.status, json: (await res.json()) as Json };
    };
    const wo = { workOrderId: `WO-${uniqueSuffix()}`, orderId };
    expect(await send({ ...wo, status: 'in_production', percent: 50, message: '激光刻字中', at: new Date().toISOString() })).toEqual({ status: 200, json: { ok: true, recorded: true } });
    expect(await send({ ...wo, status: 'in_production', percent: 60, at: new Date().toISOString() }, true)).toMatchObject({ status: 422, json: { code: 'CARRIER_SIGNATURE_INVALID' } });
    expect((await parcels(orderId)).shipments[0].status).toBe('awaiting_production');
    expect((await send({ ...wo, status: 'completed', at: new Date().toISOString() })).json).toEqual({ ok: true, recorded: true });
    await parcels(orderId, (x) => x.shipments[0].status === 'created');
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).toContain(parcel.shipmentId);
    const d = await tracked(orderId, (x) => x.timeline.filter((t) => t.type === 'WorkOrderProgressed').length === 2, 'work order progress in tracking');
    expect(d.timeline.filter((t) => t.type === 'WorkOrderProgressed').map((t) => t.what.zh)).toEqual([`工厂工单 ${wo.workOrderId}：生产中 50%`, `工厂工单 ${wo.workOrderId}：生产完成`]);
  }, 120_000);

  it('the warehouse over gRPC: pick list, scan (wrong SKU refused FAILED_PRECONDITION), pack by order id with request_id replay, ship, freeze and its override', async () => {
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    await pickable(orderId);
    const client = grpcClient(procs.fulfillment.grpcAddress, 'fulfillment/v1/fulfillment.proto', 'flowline.fulfillment.v1.FulfillmentService');
    try {
      const o = await unary<Json>(client, 'GetOrderFulfillment', { orderId });
      expect(o.shipments).toHaveLength(1);
      expect(o.shipments[0]).toMatchObject({ status: 'SHIPMENT_STATUS_PENDING', warehouseId: 'WH-HZ-01' });
      const shipmentId = o.shipments[0].shipmentId as string;
      const pick = await unary<Json>(client, 'ListPickList', { warehouseId: 'WH-HZ-01', pageSize: 500 });
      expect(pick.shipments.map((x: Json) => x.shipmentId)).toContain(shipmentId);
      await expect(unary(client, 'ScanItem', { meta: { requestId: `scan-w-${uniqueSuffix()}` }, shipmentId, sku: 'CUP-CLAY-01', quantity: 1 })).rejects.toMatchObject({ code: 9 });
      expect((await unary<Json>(client, 'ScanItem', { meta: { requestId: `scan-${uniqueSuffix()}` }, shipmentId, sku: 'TEA-LJ-250', quantity: 1 })).shipment.status).toBe('SHIPMENT_STATUS_PICKING');
      const packReq = { meta: { requestId: `pack-${uniqueSuffix()}`, actor: { kind: 'user', id: 'wh-li', role: 'warehouse' } }, orderId };
      const packed = await unary<Json>(client, 'Pack', packReq);
      expect(packed.shipment).toMatchObject({ status: 'SHIPMENT_STATUS_PACKED', carrier: 'SIM' });
      expect((await unary<Json>(client, 'Pack', packReq)).shipment.waybillNo).toBe(packed.shipment.waybillNo);
      expect(await unary<Json>(client, 'GetFreeze', { orderId })).toMatchObject({ frozen: true });
      // Only a manager lifts the freeze, and who did is the verified token's subject: a warehouse token is
      // refused (PERMISSION_DENIED) even when meta.actor claims a general manager (issue #16).
      const asRole = async (header: Promise<{ authorization: string }>) => {
        const md = new Metadata();
        md.set('authorization', (await header).authorization);
        return md;
      };
      const forged = { kind: 'user', id: 'gm-forged', role: 'general_manager' };
      await expect(unary(client, 'OverrideFreeze', { meta: { requestId: `ovr-${uniqueSuffix()}`, actor: forged }, orderId, reason: '改地址' }, 5_000, await asRole(authHeader('warehouse')))).rejects.toMatchObject({ code: 7 });
      await expect(unary(client, 'OverrideFreeze', { meta: { requestId: `ovr-${uniqueSuffix()}` }, orderId, reason: '' }, 5_000, await asRole(personaHeader('gm-wang', 'general_manager')))).rejects.toMatchObject({ code: 3 });
      const over = await unary<Json>(client, 'OverrideFreeze', { meta: { requestId: `ovr-${uniqueSuffix()}`, actor: forged }, orderId, reason: '客户加急改地址' }, 5_000, await asRole(personaHeader('gm-wang', 'general_manager')));
      expect(over.freeze).toMatchObject({ frozen: false, overriddenBy: 'gm-wang', overrideReason: '客户加急改地址' });
      const shipped = await unary<Json>(client, 'Ship', { meta: { requestId: `ship-${uniqueSuffix()}` }, orderId });
      expect(shipped.shipment).toMatchObject({ status: 'SHIPMENT_STATUS_SHIPPED', trackingNumber: packed.shipment.waybillNo });
    } finally {
      client.close();
    }
    const d = await tracked(orderId, (x) => x.timeline.some((t) => t.type === 'FreezeOverridden'), 'override in tracking');
    expect(d.timeline.find((t) => t.type === 'FreezeOverridden')?.why?.zh).toBe('客户加急改地址');
  }, 120_000);
});

describe("a buyer's token (the portal) at fulfillment", () => {
  it('reads its own order only (another is a 404), and no pick list, intercept list, parcel or label (403)', async () => {
    const buyer = await authHeader('customer', { orders: ['fx-mine'] });
    const asBuyer = (path: string) => call(procs.fulfillment.httpUrl, 'GET', `/api/fulfillment${path}`, undefined, buyer);
    expect((await asBuyer('/orders/fx-someone-else')).status).toBe(404);
    expect((await asBuyer('/orders/fx-someone-else')).json).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    for (const path of ['/warehouses/WH-HZ-01/pick-list', '/warehouses/WH-HZ-01/intercepts', '/shipments/fx-someone-else-1', '/shipments/fx-someone-else-1/label']) {
      expect((await asBuyer(path)).status, path).toBe(403);
    }
    // Staff still read the pick list.
    expect((await call(procs.fulfillment.httpUrl, 'GET', '/api/fulfillment/warehouses/WH-HZ-01/pick-list', undefined, await authHeader('warehouse'))).status).toBe(200);
  });
});

describe("a shop-limited token at fulfillment", () => {
  it("reads its shops' parcels; another shop's order, freeze, parcel and label answer as unknown ones", async () => {
    // A Tmall order (anOrderSubmission's shop), not merged with anything.
    const orderId = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }]);
    const shipmentId = (await parcels(orderId, (x) => x.shipments.length > 0)).shipments[0].shipmentId as string;
    const jdOnly = await authHeader('customer_service', { user: 'cs-jd', shops: ['jd-flagship'] });
    const tmall = await authHeader('customer_service', { user: 'cs-taobao', shops: ['tmall-flagship'] });
    const get = (path: string, who: Record<string, string>) => call(procs.fulfillment.httpUrl, 'GET', `/api/fulfillment${path}`, undefined, who);
    const order = await get(`/orders/${orderId}`, jdOnly);
    expect(order.status).toBe(404);
    expect(order.json).toMatchObject({ code: 'FULFILLMENT_NOT_STARTED' });
    expect((await get(`/orders/${orderId}/freeze`, jdOnly)).json).toMatchObject({ orderId, frozen: false, reason: null });
    for (const path of [`/shipments/${shipmentId}`, `/shipments/${shipmentId}/label`]) {
      const r = await get(path, jdOnly);
      expect(r.status, path).toBe(404);
      expect(r.json, path).toMatchObject({ code: 'SHIPMENT_NOT_FOUND' });
    }
    // The Tmall shop's own staff read them.
    expect((await get(`/orders/${orderId}`, tmall)).json).toMatchObject({ orderId, shipments: [expect.objectContaining({ shipmentId })] });
    const before = (await get(`/shipments/${shipmentId}`, tmall)).json;
    expect(before).toMatchObject({ shipmentId });
    // Warehouse commands on another shop's parcel answer as for an unknown one, and change nothing.
    const whJd = await authHeader('warehouse', { shops: ['jd-flagship'] });
    const whTmall = await authHeader('warehouse', { shops: ['tmall-flagship'] });
    const post = (path: string, body: unknown, who: Record<string, string>) => call(procs.fulfillment.httpUrl, 'POST', `/api/fulfillment${path}`, body, who);
    for (const [path, body] of [
      [`/shipments/${shipmentId}/pick`, {}],
      [`/shipments/${shipmentId}/scans`, { sku: 'TEA-LJ-250', quantity: 1 }],
      [`/shipments/${shipmentId}/pack`, {}],
    ] as const) {
      const r = await post(path, body, whJd);
      expect(r.status, path).toBe(404);
      expect(r.json, path).toMatchObject({ code: 'SHIPMENT_NOT_FOUND' });
    }
    // Release answers another shop's parcel exactly as an id it does not know (not even by the order id in the message).
    const strip = (j: Json | null) => JSON.parse(JSON.stringify(j).replaceAll(shipmentId, 'ID').replaceAll('SHP-UNKNOWN-1', 'ID')) as Json;
    const foreign = await post(`/shipments/${shipmentId}/release`, { reason: 'scope test' }, whJd);
    const unknown = await post(`/shipments/SHP-UNKNOWN-1/release`, { reason: 'scope test' }, whJd);
    expect(foreign.status).toBe(404);
    expect({ ...strip(foreign.json), instance: null }).toEqual({ ...strip(unknown.json), instance: null });
    const gmJd = await authHeader('general_manager', { shops: ['jd-flagship'] });
    expect((await post(`/orders/${orderId}/freeze-override`, { reason: 'scope test' }, gmJd)).json).toMatchObject({ code: 'FULFILLMENT_NOT_STARTED' });
    expect((await get(`/shipments/${shipmentId}`, tmall)).json).toEqual(before);
    // The Tmall warehouse reaches the parcel: its answer is the parcel's own (a merge window still open), not 404.
    expect((await post(`/shipments/${shipmentId}/pick`, {}, whTmall)).json).toMatchObject({ code: 'MERGE_WINDOW_OPEN' });
    const client = grpcClient(procs.fulfillment.grpcAddress, 'fulfillment/v1/fulfillment.proto', 'flowline.fulfillment.v1.FulfillmentService');
    const md = (who: Record<string, string>) => {
      const m = new Metadata();
      m.set('authorization', who.authorization);
      return m;
    };
    try {
      // NOT_FOUND, as an order whose fulfilment has not started.
      await expect(unary(client, 'GetOrderFulfillment', { orderId }, 5_000, md(jdOnly))).rejects.toMatchObject({ code: 5 });
      expect(await unary<Json>(client, 'GetOrderFulfillment', { orderId }, 5_000, md(tmall))).toMatchObject({ orderId });
      await expect(unary(client, 'ScanItem', { shipmentId, sku: 'TEA-LJ-250', quantity: 1 }, 5_000, md(whJd))).rejects.toMatchObject({ code: 5 });
      await expect(unary(client, 'Pack', { orderId }, 5_000, md(whJd))).rejects.toMatchObject({ code: 5 });
    } finally {
      client.close();
    }
  }, 120_000);
});

describe('merge (合单) across services: one buyer, one address, one shop, within the window', () => {
  const mergedOf = async (orderId: string) => (await parcels(orderId, (x) => !!x.shipments[0]?.mergeParcelId)).shipments[0].mergeParcelId as string;

  it('two orders of the same buyer and address -> one parcel, one waybill, both orders delivered', async () => {
    const buyer = `buyer-m-${uniqueSuffix()}`;
    const a = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }], { buyer });
    const b = await placeAndPay([{ sku: 'TEA-RET-01', quantity: 2 }], { buyer });
    const m = await mergedOf(a);
    expect(await mergedOf(b)).toBe(m);
    // Inside its 30-minute window the box waits for more orders: not on the pick list, not pickable.
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).not.toContain(m);
    const early = await wh('POST', `/shipments/${m}/pick`, {});
    expect(early.status).toBe(409);
    expect(early.json).toMatchObject({ code: 'MERGE_WINDOW_OPEN', details: { parcelId: m } });
    // A person releases it: sealed, on the pick list as one entry.
    const released = await wh('POST', `/shipments/${m}/release`, { reason: '不再等合单' });
    expect(released.status).toBe(200);
    expect(released.json).toMatchObject({ shipmentId: m, mergeStatus: 'sealed', mergedOrderIds: expect.arrayContaining([a, b]) });
    // One entry on the pick list: both orders' lines, each naming its order; 300 g + 2 x 300 g.
    const entry = await eventually('the merged parcel on the pick list', async () => {
      const r = await wh('GET', '/warehouses/WH-HZ-01/pick-list');
      return (r.json.shipments as Json[]).find((x) => x.shipmentId === m);
    });
    expect(entry).toMatchObject({ mergeParcelId: m, mergedOrderIds: expect.arrayContaining([a, b]), mergeStatus: 'sealed', weightGrams: 900, status: 'created' });
    // Either order may join the box first (they travel on different partitions): lines compared by SKU.
    expect([...(entry.lines as Json[])].sort((x, y) => String(x.sku).localeCompare(String(y.sku)))).toEqual([
      { lineId: 'L1', sku: 'TEA-LJ-250', quantity: 1, orderId: a },
      { lineId: 'L1', sku: 'TEA-RET-01', quantity: 2, orderId: b },
    ]);
    expect((await wh('GET', '/warehouses/WH-HZ-01/pick-list')).json.shipments.map((x: Json) => x.shipmentId)).not.toContain(`SHP-${a}-1`);

    const wrong = await wh('POST', `/shipments/${m}/scans`, { sku: 'CUP-CLAY-01', quantity: 1 });
    expect(wrong.status).toBe(409);
    expect(wrong.json).toMatchObject({ code: 'SCAN_WRONG_SKU', details: { shipmentId: m } });
    expect([...(wrong.json.details.expected as string[])].sort()).toEqual(['TEA-LJ-250', 'TEA-RET-01']);
    expect((await wh('POST', `/shipments/${m}/scans`, { sku: 'TEA-LJ-250', quantity: 1 })).json).toMatchObject({ mergeStatus: 'sealed', status: 'picking' });
    expect((await wh('POST', `/shipments/${m}/pack`, {})).json).toMatchObject({ code: 'PACK_INCOMPLETE' });
    expect((await wh('POST', `/shipments/${m}/scans`, { sku: 'TEA-RET-01', quantity: 2 })).status).toBe(200);
    const packed = await wh('POST', `/shipments/${m}/pack`, {});
    // The box's carrier by the rules on both orders together (900 g, 39200 fen): the default, recorded.
    expect(packed.json).toMatchObject({ status: 'packed', mergeStatus: 'packed', carrier: 'SIM', mergedOrderIds: expect.arrayContaining([a, b]), carrierChoice: { carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.12.2', weightGrams: 900 } });
    const waybill = packed.json.waybillNo as string;
    expect((packed.json.members as Json[]).map((x) => [x.orderId, x.status, x.waybillNo]).sort((x, y) => (x[0] === a ? -1 : y[0] === a ? 1 : 0))).toEqual([
      [a, 'packed', waybill],
      [b, 'packed', waybill],
    ]);
    // One label for the box: its waybill, both orders, the parcel weight (also from a member's id).
    const label = await wh('GET', `/shipments/SHP-${b}-1/label`);
    expect(label.json).toMatchObject({ shipmentId: `SHP-${b}-1`, waybillNo: waybill, mergeParcelId: m, orderIds: expect.arrayContaining([a, b]), weightGrams: 900 });
    expect((await wh('POST', `/shipments/${m}/ship`, {})).json).toMatchObject({ status: 'shipped', trackingNumber: waybill });

    // Each order reaches delivered in order-intake through the parcel's events, which name both orders.
    // Tracking applies orders.events (the stage) and fulfillment.events (its parcel lines) on their own:
    // wait for the parcel delivered in its shipments view too, not only for the stage.
    for (const orderId of [a, b]) {
      const d = await tracked(
        orderId,
        (x) =>
          x.order.stage === 'delivered' &&
          x.timeline.some((t) => t.type === 'OrderDelivered') &&
          x.shipments?.length === 1 &&
          x.shipments[0].waybillNo === waybill &&
          x.shipments[0].status === 'delivered',
        `${orderId} delivered in tracking, its parcel delivered in the shipments view`,
      );
      expect(d.shipments).toEqual([expect.objectContaining({ waybillNo: waybill, status: 'delivered' })]);
      const o = await parcels(orderId);
      expect(o.shipments[0]).toMatchObject({ status: 'delivered', mergeParcelId: m, mergedOrderIds: expect.arrayContaining([a, b]), waybillNo: waybill });
    }
  }, 180_000);

  it('a refund of one order before packing takes only its lines out; the other is packed alone; the last one out empties the parcel', async () => {
    const buyer = `buyer-r-${uniqueSuffix()}`;
    const a = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }], { buyer });
    const b = await placeAndPay([{ sku: 'TEA-RET-01', quantity: 1 }], { buyer });
    const m = await mergedOf(a);
    expect(await mergedOf(b)).toBe(m);
    await eventually('both orders in the merged parcel', async () => {
      const r = await wh('GET', `/shipments/${m}`);
      return r.json.mergedOrderIds?.length === 2 ? true : undefined;
    });
    expect((await intake('POST', `/api/orders/${a}/refunds`, { amount: 13200, reason: '买家申请退款' })).status).toBe(200);
    await parcels(a, (x) => x.shipments[0].status === 'stopped');
    const left = await eventually('only the other order in the parcel', async () => {
      const r = await wh('GET', `/shipments/${m}`);
      return r.json.mergedOrderIds?.length === 1 ? r.json : undefined;
    });
    expect(left).toMatchObject({ mergedOrderIds: [b], lines: [{ sku: 'TEA-RET-01', quantity: 1, orderId: b }], weightGrams: 300 });
    expect((await wh('POST', `/shipments/${m}/release`, { reason: '不再等合单' })).status).toBe(200);
    // A scan of the refunded order's item is refused: it is no longer in the box.
    expect((await wh('POST', `/shipments/${m}/scans`, { sku: 'TEA-LJ-250', quantity: 1 })).json).toMatchObject({ code: 'SCAN_WRONG_SKU', details: { expected: ['TEA-RET-01'] } });
    expect((await wh('POST', `/shipments/${m}/scans`, { sku: 'TEA-RET-01', quantity: 1 })).status).toBe(200);
    const packed = await wh('POST', `/shipments/${m}/pack`, {});
    expect(packed.json).toMatchObject({ status: 'packed', mergedOrderIds: [b] });
    await tracked(b, (x) => x.order.stage === 'packed', 'the other order packed in tracking');
    const ra = await tracked(a, (x) => x.timeline.some((t) => t.type === 'FulfillmentStopped') && x.timeline.some((t) => t.type === 'StockReleased'), 'refunded order stopped in tracking');
    expect(ra.order.stage).not.toBe('packed');

    // The last order out empties the parcel: nothing is left to pack.
    const buyer2 = `buyer-e-${uniqueSuffix()}`;
    const c = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }], { buyer: buyer2 });
    const mc = await mergedOf(c);
    expect((await intake('POST', `/api/orders/${c}/cancel`, { reason: '买家要求取消' })).status).toBe(200);
    await parcels(c, (x) => x.shipments[0].status === 'stopped');
    expect((await wh('GET', `/shipments/${mc}`)).json).toMatchObject({ mergeStatus: 'empty', mergedOrderIds: [], status: 'stopped' });
    expect((await wh('POST', `/shipments/${mc}/pack`, {})).json).toMatchObject({ code: 'SHIPMENT_STOPPED' });
  }, 180_000);

  it('the same buyer at another address -> two parcels', async () => {
    const buyer = `buyer-d-${uniqueSuffix()}`;
    const a = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }], { buyer });
    const b = await placeAndPay([{ sku: 'TEA-LJ-250', quantity: 1 }], { buyer, detail: '7 幢 2 单元 301' });
    const [ma, mb] = [await mergedOf(a), await mergedOf(b)];
    expect(ma).not.toBe(mb);
    for (const [orderId, m] of [[a, ma], [b, mb]] as const) {
      expect((await wh('GET', `/shipments/${m}`)).json).toMatchObject({ mergedOrderIds: [orderId] });
    }
  }, 120_000);
});

