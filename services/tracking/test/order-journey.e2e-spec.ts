import { inventoryClient, orderIntakeClient } from '@flowline/clients';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { anOrderSubmission, createTestDatabase, grandTotalOf, kafkaBrokers, serviceToken, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { TrackingOrderDetailView } from '@flowline/contracts';
import { createKafka } from '@flowline/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './fixtures/harness';

/*
 * Across services, each its own process (node -r @swc-node/register services/<svc>/src/main.ts) on
 * its own database, sharing one topic prefix: an order placed over REST in order-intake, paid,
 * reserved by inventory and released by the flow rules shows ready_to_ship in tracking with its
 * whole timeline; a cancelled order shows the release of its stock; an order left in paid (no stock)
 * turns yellow, then red, pushed by tracking's SLA clock with no new event (budget shortened to 8 s
 * for the test; the clock job ticks every 250 ms in that process).
 */

const prefix = testTopicPrefix();
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const procs: Record<string, ServiceProcess> = {};
const SLA_PAID_MS = 8_000;

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : null };
}

// order-intake and inventory through their generated typed clients (@flowline/clients).
const intake = () => orderIntakeClient(procs['order-intake'].httpUrl);
const inventory = () => inventoryClient(procs.inventory.httpUrl);
const key = () => ({ 'Idempotency-Key': `k-${uniqueSuffix()}` });

async function placeAndPay(sku: string): Promise<string> {
  const submission = anOrderSubmission({ channelOrderId: `TM${Date.now()}${uniqueSuffix()}`, lines: [{ lineId: 'L1', sku, title: '西湖龙井 250g', quantity: 2, unitPrice: 12800, lineDiscount: 0, category: 'tea' }] });
  const { placedAt: _placedAt, ...body } = submission;
  // The channel integration places and pays (its client-credentials token, as channel-gateway does):
  // no person touched the order, so manualTouch stays false (a staff token would count as a touch).
  const integration = { authorization: `Bearer ${await serviceToken('channel-gateway')}` };
  const placed = await intake().POST('/api/orders', { body: { ...body, placedAt: submission.placedAt }, params: { header: key() }, headers: integration });
  expect(placed.response.status, JSON.stringify(placed.error)).toBe(201);
  const orderId = placed.data?.orderId ?? '';
  const paid = await intake().POST('/api/orders/{orderId}/payments', {
    params: { path: { orderId }, header: key() },
    body: { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}` },
    headers: integration,
  });
  expect(paid.response.status, JSON.stringify(paid.error)).toBe(200);
  return orderId;
}

async function tracked(orderId: string, until: (d: TrackingOrderDetailView) => boolean, what: string): Promise<TrackingOrderDetailView> {
  return eventually(what, async () => {
    const r = await call(procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    if (r.status !== 200) return undefined;
    const d = r.json as unknown as TrackingOrderDetailView;
    return until(d) ? d : undefined;
  }, 90_000, 250);
}

beforeAll(async () => {
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const specs: [string, Record<string, string>][] = [
    // Inventory's default group id is not prefixed: give it its own, away from other runs on this broker.
    ['inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }],
    ['order-intake', {}],
    ['tracking', { TRACKING_SLA_PAID_TO_READY: `${SLA_PAID_MS}ms`, TRACKING_CLOCK_INTERVAL: '250ms', TRACKING_CONSUMER_GROUP: `tracking-e2e-${uniqueSuffix()}` }],
  ];
  await Promise.all(
    specs.map(async ([service, env]) => {
      const db = await createTestDatabase(`e2e_${service.replace('-', '_')}`);
      dbs.push(db);
      procs[service] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: db.url }, readyTimeoutMs: 120_000 });
    }),
  );
  expect((await inventory().PUT('/api/stock/warehouses/{warehouseId}', { params: { path: { warehouseId: 'WH-HZ-01' } }, body: { name: '杭州仓', priority: 1 } })).response.status).toBe(200);
  expect((await inventory().PUT('/api/stock/skus/{sku}', { params: { path: { sku: 'TEA-LJ-250' } }, body: { name: '西湖龙井 250g' } })).response.status).toBe(200);
  const received = await inventory().POST('/api/stock/receipts', { body: { sku: 'TEA-LJ-250', warehouseId: 'WH-HZ-01', quantity: 100, reference: 'PO-E2E' } });
  expect(received.response.status, JSON.stringify(received.error)).toBe(201);
}, 300_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) {
    for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
    const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'dbg' }).admin();
    await admin.connect();
    for (const t of (await admin.listTopics()).filter((x) => x.startsWith(prefix))) {
      const o = await admin.fetchTopicOffsets(t);
      console.log(t, o.map((x) => x.high).join(','));
    }
    await admin.disconnect();
  }
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'tracking-e2e-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  for (const db of dbs) await db.drop();
}, 120_000);

describe('an order journey across services, seen in tracking', () => {
  it('placed over REST, paid, reserved and released by the rules: ready_to_ship with its whole timeline', async () => {
    const orderId = await placeAndPay('TEA-LJ-250');
    const d = await tracked(orderId, (x) => x.order.stage === 'ready_to_ship' && x.timeline.some((t) => t.type === 'StockReserved'), 'ready_to_ship in tracking');
    const types = d.timeline.map((t) => t.type);
    for (const type of ['OrderPlaced', 'OrderPaid', 'StockReserved', 'OrderStockReserved', 'OrderRuleDecided', 'OrderReadyToShip']) expect(types).toContain(type);
    expect(types.indexOf('OrderPlaced')).toBeLessThan(types.indexOf('OrderPaid'));
    expect(types.indexOf('OrderPaid')).toBeLessThan(types.indexOf('OrderReadyToShip'));
    expect(d.order).toMatchObject({ orderId, channel: 'tmall', customerMasked: '张*', grandTotal: 26000, paidAmount: 26000, manualTouch: false });
    const decided = d.timeline.find((t) => t.type === 'OrderRuleDecided');
    expect(decided?.rule).toMatchObject({ ruleId: 'ready-when-paid-and-reserved', ruleSetVersion: '2025.12.1' });
    expect(decided?.what.zh).toBe('规则判定：自动审单通过');
    const ready = d.timeline.find((t) => t.type === 'OrderReadyToShip');
    expect(ready?.why?.zh).toContain('规则 ready-when-paid-and-reserved（规则集版本 2025.12.1）');
    expect(d.timeline.find((t) => t.type === 'StockReserved')).toMatchObject({ context: 'inventory', what: { zh: '仓库预占库存：TEA-LJ-250×2@WH-HZ-01' } });
    expect(d.stageDurations.map((v) => v.stage)).toEqual(expect.arrayContaining(['placed', 'paid', 'stock_reserved', 'ready_to_ship']));
    const paidAt = d.timeline.find((t) => t.type === 'OrderPaid')!.occurredAt;
    const asOf = await call(procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}?asOf=${encodeURIComponent(paidAt)}`);
    expect(asOf.json?.order.stage).toBe('paid');
  }, 120_000);

  it('cancelled after reservation: tracking shows the cancellation and the release of the stock', async () => {
    const orderId = await placeAndPay('TEA-LJ-250');
    await tracked(orderId, (x) => x.timeline.some((t) => t.type === 'StockReserved'), 'reserved in tracking');
    const cancelled = await intake().POST('/api/orders/{orderId}/cancel', { params: { path: { orderId }, header: key() }, body: { reason: '买家要求取消' } });
    expect(cancelled.response.status, JSON.stringify(cancelled.error)).toBe(200);
    const d = await tracked(orderId, (x) => x.order.stage === 'cancelled' && x.timeline.some((t) => t.type === 'StockReleased'), 'cancelled and released in tracking');
    expect(d.timeline.find((t) => t.type === 'OrderCancelled')).toMatchObject({ why: { zh: '买家要求取消' } });
    expect(d.timeline.find((t) => t.type === 'StockReleased')).toMatchObject({ context: 'inventory', what: { zh: '预占库存已释放', en: 'Reserved stock released' } });
    expect(d.order.closedAt).not.toBeNull();
    const level = await inventory().GET('/api/stock/skus/{sku}', { params: { path: { sku: 'TEA-LJ-250' } } });
    expect(level.response.status).toBe(200);
  }, 120_000);

  it('an order left in paid (no stock) turns yellow, then red, with no new event', async () => {
    // Subscribe first, then create the order: every colour change of it is pushed.
    const controller = new AbortController();
    const colours: string[] = [];
    let orderId = '';
    const pending: string[] = [];
    const res = await fetch(`${procs.tracking.httpUrl}/api/tracking/stream`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let buf = '';
    const reading = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += new TextDecoder().decode(value);
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block.split('\n').find((l) => l.startsWith('data:'));
            if (!block.includes('event: order') || !data) continue;
            pending.push(data.slice(5).trim());
          }
        }
      } catch {
        /* aborted */
      }
    })();
    orderId = await placeAndPay('TEA-MISSING-1');
    const d = await eventually('red', async () => {
      for (const raw of pending.splice(0)) {
        const change = JSON.parse(raw) as { order: { orderId: string; sla: { colour: string } } };
        if (change.order.orderId === orderId && colours[colours.length - 1] !== change.order.sla.colour) colours.push(change.order.sla.colour);
      }
      return colours.includes('red') ? colours : undefined;
    }, 60_000, 100);
    controller.abort();
    await reading;
    expect(d.indexOf('yellow')).toBeGreaterThanOrEqual(0);
    expect(d.indexOf('yellow')).toBeLessThan(d.indexOf('red'));
    const detail = await tracked(orderId, () => true, 'the order');
    expect(detail.order).toMatchObject({ stage: 'paid', sla: { colour: 'red', segment: 'paid_to_ready' } });
    expect(detail.order.flags).toContain('exception');
    expect(detail.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(['OrderPaid', 'StockShortage', 'OrderStockShortage']));
    // No event arrived after the deadline: the clock, not an event, turned it red.
    expect(Date.parse(detail.order.lastEventAt)).toBeLessThan(Date.parse(detail.order.sla.dueAt!));
    expect(Date.parse(detail.order.sla.dueAt!) - Date.parse(detail.order.sla.startedAt!)).toBe(SLA_PAID_MS);
  }, 120_000);
});
