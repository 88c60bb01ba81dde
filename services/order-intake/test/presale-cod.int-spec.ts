import { Topics } from '@flowline/contracts';
import type { RunningService } from '@flowline/platform';
import { anOrderSubmission, createTestDatabase, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/application/order-view';
import { KafkaPeer } from './support/kafka-peer';
import { startOrderIntake } from './support/order-intake-app';

// Presale (预售) and cash on delivery (货到付款) through order-intake's REST API and the real broker:
// the test plays inventory and fulfillment (reads the commands order-intake publishes, answers with
// their events). The presale timer scans every 250 ms.

async function http(svc: RunningService, method: string, path: string, payload?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.httpUrl}${path}`, {
    method,
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  });
  return { status: res.status, json: (await res.json()) as OrderView & { code?: string } };
}

async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = await read();
  while (!check(last)) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

describe('presale and COD orders through Kafka', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let peer: KafkaPeer;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_presale_cod');
    const prefix = testTopicPrefix();
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: prefix, timeoutScanIntervalMs: 250 });
    peer = new KafkaPeer(prefix);
    await peer.watch([Topics.inventoryCommands, Topics.fulfillmentCommands]);
  });

  afterAll(async () => {
    await peer?.close();
    await svc?.close();
    await db?.drop();
  });

  const view = async (orderId: string) => (await http(svc, 'GET', `/api/orders/${orderId}`)).json;
  const untilStage = (orderId: string, stage: string, timeoutMs?: number) => eventually(() => view(orderId), (o) => o.stage === stage, timeoutMs);

  async function place(extra: Record<string, unknown>): Promise<OrderView> {
    seq += 1;
    const sub = { ...anOrderSubmission({ channel: 'taobao', channelOrderId: `TB-PC-${Date.now()}-${seq}` }), ...extra };
    const placed = await http(svc, 'POST', '/api/orders', sub, { 'idempotency-key': `pc-${sub.channelOrderId}` });
    expect(placed.status).toBe(201);
    return placed.json;
  }

  /** Inventory's side: answer ReserveStock with StockReserved for every line. */
  async function reserve(orderId: string) {
    const cmd = await peer.waitFor('ReserveStock', orderId);
    const data = cmd.envelope.data as { lines: { lineId: string; sku: string; quantity: number }[] };
    await peer.publish(Topics.inventoryEvents, 'StockReserved', { orderId, reservationId: `RES-${orderId}`, allocations: data.lines.map((l) => ({ ...l, warehouseId: 'WH-HZ-01' })) });
  }

  it('COD: reserved and released unpaid; delivery records the collected grand total as the payment', async () => {
    const order = await place({ paymentMethod: 'cod' });
    expect(order.stage).toBe('placed');
    await reserve(order.orderId);
    await peer.waitFor('StartFulfillment', order.orderId);
    const ready = await untilStage(order.orderId, 'ready_to_ship');
    expect(ready.payment).toBeNull();
    expect(ready.decisions).toEqual([expect.objectContaining({ ruleId: 'ready-when-cod-and-reserved', decision: 'ready_to_ship' })]);

    await peer.publish(Topics.fulfillmentEvents, 'ShipmentPacked', { orderId: order.orderId, shipmentId: 'SHP-COD', waybillNo: 'SF900' });
    await untilStage(order.orderId, 'packed');
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentShipped', { orderId: order.orderId, shipmentId: 'SHP-COD', carrier: '顺丰', trackingNumber: 'SF900' });
    await untilStage(order.orderId, 'shipped');
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentDelivered', { orderId: order.orderId, shipmentId: 'SHP-COD', deliveredAt: new Date().toISOString() });
    const paid = await eventually(() => view(order.orderId), (o) => o.stage === 'delivered' && o.payment !== null);
    expect(paid.payment).toMatchObject({ amount: order.totals.grandTotal, currency: 'CNY', paymentRef: 'cod:SHP-COD' });
  });

  it('COD refused parcel (cancelled before shipment): stock released, fulfillment stopped, nothing owed', async () => {
    const order = await place({ paymentMethod: 'cod' });
    await reserve(order.orderId);
    await untilStage(order.orderId, 'ready_to_ship');
    const cancelled = await http(svc, 'POST', `/api/orders/${order.orderId}/cancel`, { reason: '买家拒收 buyer refused the parcel' });
    expect(cancelled.json.stage).toBe('cancelled');
    expect((await peer.waitFor('ReleaseStock', order.orderId)).envelope.data).toMatchObject({ orderId: order.orderId });
    await peer.waitFor('StopFulfillment', order.orderId);
  });

  it('presale: deposit reserves stock; the balance releases it to fulfillment (ship date passed)', async () => {
    const order = await place({ presale: { depositAmount: 5000, balanceDueBy: new Date(Date.now() + 10 * 60_000).toISOString(), shipNotBefore: new Date(Date.now() - 60_000).toISOString() } });
    const deposit = await http(svc, 'POST', `/api/orders/${order.orderId}/payments`, { amount: 5000, paymentRef: 'ALIPAY-DEP' });
    expect(deposit.json).toMatchObject({ stage: 'paid', payment: { amount: 5000 } });
    await reserve(order.orderId);
    const reserved = await untilStage(order.orderId, 'stock_reserved');
    expect(reserved.fulfillment).toBeNull();
    const balance = await http(svc, 'POST', `/api/orders/${order.orderId}/payments`, { amount: order.totals.grandTotal - 5000, paymentRef: 'ALIPAY-BAL' });
    expect(balance.json.payment).toMatchObject({ amount: order.totals.grandTotal });
    await peer.waitFor('StartFulfillment', order.orderId);
    await untilStage(order.orderId, 'ready_to_ship');
    // A second payment is refused: nothing is due at ready_to_ship (the balance is paid and no approved
    // change raised the price; a change's payment due is the one payment ready_to_ship takes, #13).
    const again = await http(svc, 'POST', `/api/orders/${order.orderId}/payments`, { amount: 1 });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ORDER_BALANCE_NOT_DUE');
  });

  it('presale: an unpaid balance after its deadline cancels the order and releases the stock', async () => {
    const order = await place({ presale: { depositAmount: 5000, balanceDueBy: new Date(Date.now() + 4_000).toISOString(), shipNotBefore: new Date(Date.now() + 60_000).toISOString() } });
    await http(svc, 'POST', `/api/orders/${order.orderId}/payments`, { amount: 5000 });
    await reserve(order.orderId);
    await untilStage(order.orderId, 'stock_reserved');
    const cancelled = await untilStage(order.orderId, 'cancelled', 30_000);
    expect(cancelled.cancellation).toMatchObject({ stageAtCancel: 'stock_reserved' });
    expect((await peer.waitFor('ReleaseStock', order.orderId)).envelope.data).toMatchObject({ orderId: order.orderId, reason: 'cancelled' });
  });
});
