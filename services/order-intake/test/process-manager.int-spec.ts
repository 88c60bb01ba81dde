import { Topics } from '@flowline/contracts';
import type { RunningService } from '@flowline/platform';
import { aCustomer, anOrderSubmission, createTestDatabase, lines, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/application/order-view';
import { KafkaPeer } from './support/kafka-peer';
import { startOrderIntake } from './support/order-intake-app';

// The order process manager through the real broker: order-intake runs with its relay and its
// consumer; the test plays inventory, approval and fulfillment by reading the commands order-intake
// publishes and producing the events those services would send back.

const WATCHED = [Topics.inventoryCommands, Topics.approvalCommands, Topics.fulfillmentCommands, Topics.orderEvents];

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

describe('order process manager through Kafka', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let peer: KafkaPeer;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_pm');
    const prefix = testTopicPrefix();
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: prefix });
    peer = new KafkaPeer(prefix);
    await peer.watch(WATCHED);
  });

  afterAll(async () => {
    await peer?.close();
    await svc?.close();
    await db?.drop();
  });

  const stageOf = async (orderId: string) => (await http(svc, 'GET', `/api/orders/${orderId}`)).json;
  const untilStage = (orderId: string, stage: string) => eventually(() => stageOf(orderId), (o) => o.stage === stage);

  async function placeAndPay(overrides: Parameters<typeof anOrderSubmission>[0] = {}): Promise<OrderView> {
    const sub = anOrderSubmission({ channelOrderId: `PM-${Date.now()}-${++seq}`, ...overrides });
    const placed = await http(svc, 'POST', '/api/orders', sub, { 'idempotency-key': `pm-${sub.channelOrderId}` });
    expect(placed.status).toBe(201);
    const paid = await http(svc, 'POST', `/api/orders/${placed.json.orderId}/payments`, { amount: placed.json.totals.grandTotal, paymentRef: 'ALIPAY-PM' });
    expect(paid.json.stage).toBe('paid');
    return paid.json;
  }

  /** Inventory's side: answer ReserveStock with StockReserved for every line. */
  async function reserve(order: OrderView) {
    const cmd = await peer.waitFor('ReserveStock', order.orderId);
    const data = cmd.envelope.data as { lines: { lineId: string; sku: string; quantity: number }[] };
    await peer.publish(Topics.inventoryEvents, 'StockReserved', {
      orderId: order.orderId,
      reservationId: `RES-${order.orderId}`,
      allocations: data.lines.map((l) => ({ ...l, warehouseId: 'WH-HZ-01' })),
    });
  }

  it('happy path: paid -> reserve -> audit -> fulfillment -> packed -> shipped (stock committed) -> delivered', async () => {
    const order = await placeAndPay();

    const reserveCmd = await peer.waitFor('ReserveStock', order.orderId);
    expect(reserveCmd.topic).toBe(Topics.inventoryCommands);
    expect(reserveCmd.key).toBe(order.orderId);
    expect(reserveCmd.envelope.data).toEqual({ orderId: order.orderId, channel: 'tmall', shopId: order.shopId, lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2 }] });
    await reserve(order);

    const start = await peer.waitFor('StartFulfillment', order.orderId);
    expect(start.topic).toBe(Topics.fulfillmentCommands);
    expect(start.envelope.data).toMatchObject({ orderId: order.orderId, priority: 'normal', requiresQc: false, lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, warehouseId: 'WH-HZ-01' }] });
    const ready = await untilStage(order.orderId, 'ready_to_ship');
    expect(ready.decisions).toEqual([expect.objectContaining({ ruleId: 'ready-when-paid-and-reserved', ruleSetVersion: '2025.12.1', decision: 'ready_to_ship' })]);

    await peer.publish(Topics.fulfillmentEvents, 'ShipmentPacked', { orderId: order.orderId, shipmentId: 'SHP-1', waybillNo: 'SF100200300' });
    await untilStage(order.orderId, 'packed');
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentShipped', { orderId: order.orderId, shipmentId: 'SHP-1', carrier: '顺丰', trackingNumber: 'SF100200300' });
    await untilStage(order.orderId, 'shipped');
    expect((await peer.waitFor('CommitStock', order.orderId)).envelope.data).toEqual({ orderId: order.orderId });
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentDelivered', { orderId: order.orderId, shipmentId: 'SHP-1', deliveredAt: new Date().toISOString() });
    await untilStage(order.orderId, 'delivered');

    // The published order events: every stage, in order, keyed by the order id, PII masked.
    const published = () => peer.seen.filter((s) => s.topic === Topics.orderEvents && s.key === order.orderId).map((s) => s.envelope.type);
    await eventually(async () => published().length, (n) => n >= 8);
    expect(published()).toEqual(['OrderPlaced', 'OrderPaid', 'OrderStockReserved', 'OrderRuleDecided', 'OrderReadyToShip', 'OrderPacked', 'OrderShipped', 'OrderDelivered']);
    const placed = peer.find('OrderPlaced', order.orderId)[0].envelope;
    expect(placed.data).toMatchObject({ customer: { nameMasked: '张*', phoneMasked: '138****5678' }, shippingAddress: { recipientMasked: '张*' } });
    expect(JSON.stringify(placed.data)).not.toContain('13812345678');
    expect(JSON.stringify(placed.data)).not.toContain('华星时代广场');
    // Each command was sent once, although the relay and the consumer may see repeats.
    expect(peer.find('ReserveStock', order.orderId)).toHaveLength(1);
    expect(peer.find('StartFulfillment', order.orderId)).toHaveLength(1);
  });

  it('a custom order waits for the approval chain, then ships', async () => {
    const order = await placeAndPay({ lines: lines({ sku: 'ENGRAVED-TEAPOT', title: '定制刻字紫砂壶', category: 'custom', unitPrice: 88000, quantity: 1 }), attachments: ['oss://designs/teapot-v2.pdf'] });
    await reserve(order);
    const request = await peer.waitFor('RequestApproval', order.orderId);
    expect(request.topic).toBe(Topics.approvalCommands);
    expect(request.envelope.data).toMatchObject({ orderId: order.orderId, chain: 'custom-order', ruleId: 'approval-large-or-custom', ruleSetVersion: '2025.12.1' });
    await untilStage(order.orderId, 'awaiting_approval');
    await peer.publish(Topics.approvalEvents, 'ApprovalGranted', { approvalId: 'APR-77', orderId: order.orderId, chain: 'custom-order' });
    await peer.waitFor('StartFulfillment', order.orderId);
    const ready = await untilStage(order.orderId, 'ready_to_ship');
    expect(ready.approval).toMatchObject({ chain: 'custom-order', status: 'granted' });
  });

  it('shortage -> the order goes to exception STOCK_SHORTAGE with the missing lines', async () => {
    const order = await placeAndPay();
    await peer.waitFor('ReserveStock', order.orderId);
    await peer.publish(Topics.inventoryEvents, 'StockShortage', { orderId: order.orderId, missing: [{ sku: 'TEA-LJ-250', requested: 2, available: 0 }] });
    const flagged = await eventually(() => stageOf(order.orderId), (o) => o.exception !== null);
    expect(flagged.stage).toBe('paid');
    expect(flagged.flags).toEqual(['exception']);
    expect(flagged.exception).toMatchObject({ code: 'STOCK_SHORTAGE', details: { missing: [{ sku: 'TEA-LJ-250', requested: 2, available: 0 }] } });
    expect(peer.find('StartFulfillment', order.orderId)).toHaveLength(0);
  });

  it('cancel before shipment -> inventory releases the stock and fulfillment stops', async () => {
    const order = await placeAndPay();
    await reserve(order);
    await peer.waitFor('StartFulfillment', order.orderId);
    await untilStage(order.orderId, 'ready_to_ship');
    const cancelled = await http(svc, 'POST', `/api/orders/${order.orderId}/cancel`, { reason: '买家申请取消' });
    expect(cancelled.json.stage).toBe('cancelled');
    const release = await peer.waitFor('ReleaseStock', order.orderId);
    expect(release.envelope.data).toEqual({ orderId: order.orderId, reason: 'cancelled' });
    const stop = await peer.waitFor('StopFulfillment', order.orderId);
    expect(stop.envelope.data).toEqual({ orderId: order.orderId, reason: '买家申请取消' });
  });

  it('refund once packed -> stop packing; the stock is released when the warehouse pulls the parcel (FulfillmentStopped, wasPacked)', async () => {
    const order = await placeAndPay();
    await reserve(order);
    await peer.waitFor('StartFulfillment', order.orderId);
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentPacked', { orderId: order.orderId, shipmentId: 'SHP-R', waybillNo: 'YT9988' });
    await untilStage(order.orderId, 'packed');
    const refund = await http(svc, 'POST', `/api/orders/${order.orderId}/refunds`, { amount: order.totals.grandTotal, reason: '七天无理由' });
    expect(refund.status).toBe(200);
    expect((await peer.waitFor('StopFulfillment', order.orderId)).envelope.data).toEqual({ orderId: order.orderId, reason: '七天无理由' });
    // The packed parcel may still leave: its units stay reserved until it is pulled.
    expect(peer.find('ReleaseStock', order.orderId)).toHaveLength(0);
    await peer.publish(Topics.fulfillmentEvents, 'FulfillmentStopped', { orderId: order.orderId, reason: '七天无理由', wasPacked: true, shipmentId: 'SHP-R' });
    expect((await peer.waitFor('ReleaseStock', order.orderId)).envelope.data).toEqual({ orderId: order.orderId, reason: 'refunded' });
  });

  it('packed, cancelled, then shipped anyway -> exception SHIPPED_AFTER_CANCEL and CommitStock of the units kept reserved (never released in between)', async () => {
    const order = await placeAndPay();
    await reserve(order);
    await peer.waitFor('StartFulfillment', order.orderId);
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentPacked', { orderId: order.orderId, shipmentId: 'SHP-C', waybillNo: 'SF5566' });
    await untilStage(order.orderId, 'packed');
    expect((await http(svc, 'POST', `/api/orders/${order.orderId}/cancel`, { reason: '买家取消' })).json.stage).toBe('cancelled');
    await peer.waitFor('StopFulfillment', order.orderId);
    await peer.publish(Topics.fulfillmentEvents, 'ShipmentShipped', { orderId: order.orderId, shipmentId: 'SHP-C', carrier: '顺丰', trackingNumber: 'SF5566' });
    const flagged = await eventually(() => stageOf(order.orderId), (o) => o.exception !== null);
    expect(flagged.stage).toBe('cancelled');
    expect(flagged.exception).toMatchObject({ code: 'SHIPPED_AFTER_CANCEL' });
    expect((await peer.waitFor('CommitStock', order.orderId)).envelope.data).toEqual({ orderId: order.orderId });
    expect(peer.find('ReleaseStock', order.orderId)).toHaveLength(0);
  });

  it('a blocked customer is put on hold by rule on arrival and is not reserved until released', async () => {
    const order = await placeAndPay({ customer: aCustomer({ tags: ['blocked'] }) });
    const held = await eventually(() => stageOf(order.orderId), (o) => o.hold !== null);
    expect(held.hold).toMatchObject({ reason: 'customer is tagged blocked', ruleId: 'hold-blocked-customer' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(peer.find('ReserveStock', order.orderId)).toHaveLength(0);
    await http(svc, 'POST', `/api/orders/${order.orderId}/holds/release`, { reason: '客服已核实' });
    await peer.waitFor('ReserveStock', order.orderId);
  });

  it('a redelivered inventory event (same event id) is applied once', async () => {
    const order = await placeAndPay();
    const cmd = await peer.waitFor('ReserveStock', order.orderId);
    const data = cmd.envelope.data as { lines: { lineId: string; sku: string; quantity: number }[] };
    const payload = { orderId: order.orderId, reservationId: 'RES-DUP', allocations: data.lines.map((l) => ({ ...l, warehouseId: 'WH-1' })) };
    const eventId = await peer.publish(Topics.inventoryEvents, 'StockReserved', payload);
    await peer.publish(Topics.inventoryEvents, 'StockReserved', payload, eventId);
    await peer.waitFor('StartFulfillment', order.orderId);
    await new Promise((r) => setTimeout(r, 1_000));
    const o = await stageOf(order.orderId);
    expect(o.stage).toBe('ready_to_ship');
    expect(o.revision).toBe(4); // placed, paid, reserved, rule decided, ready to ship
    expect(peer.find('StartFulfillment', order.orderId)).toHaveLength(1);
  });
});

describe('reservation timeout', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let peer: KafkaPeer;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_timeout');
    const prefix = testTopicPrefix();
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: prefix, reservationTimeoutMs: 2_000, timeoutScanIntervalMs: 250 });
    peer = new KafkaPeer(prefix);
    await peer.watch([Topics.inventoryCommands]);
  });

  afterAll(async () => {
    await peer?.close();
    await svc?.close();
    await db?.drop();
  });

  it('an order paid but not reserved in time goes to exception RESERVATION_TIMEOUT; a late reservation is still recorded', async () => {
    const sub = anOrderSubmission({ channel: 'pinduoduo', channelOrderId: `PDD-${Date.now()}` });
    const placed = await http(svc, 'POST', '/api/orders', sub, { 'idempotency-key': `t-${sub.channelOrderId}` });
    const orderId = placed.json.orderId;
    await http(svc, 'POST', `/api/orders/${orderId}/payments`, { amount: placed.json.totals.grandTotal });
    await peer.waitFor('ReserveStock', orderId); // inventory got the request but never answers in time
    const flagged = await eventually(
      async () => (await http(svc, 'GET', `/api/orders/${orderId}`)).json,
      (o) => o.exception !== null,
      15_000,
    );
    expect(flagged.stage).toBe('paid');
    expect(flagged.exception).toMatchObject({ code: 'RESERVATION_TIMEOUT' });
    const listed = await http(svc, 'GET', '/api/orders?flag=exception&channel=pinduoduo');
    expect((listed.json as unknown as { orders: { orderId: string }[] }).orders.map((o) => o.orderId)).toContain(orderId);

    // The reservation arrives late: it is a fact and is recorded, but the exception keeps the order
    // from moving on until a person resolves it; then the audit releases it.
    await peer.publish(Topics.inventoryEvents, 'StockReserved', { orderId, reservationId: 'LATE', allocations: [{ lineId: 'L1', sku: 'TEA-LJ-250', warehouseId: 'WH-1', quantity: 2 }] });
    const reserved = await eventually(async () => (await http(svc, 'GET', `/api/orders/${orderId}`)).json, (o) => o.stage === 'stock_reserved');
    expect(reserved.flags).toEqual(['exception']);
    await http(svc, 'POST', `/api/orders/${orderId}/exceptions/resolve`, { reason: '库存已到' });
    await eventually(async () => (await http(svc, 'GET', `/api/orders/${orderId}`)).json, (o) => o.stage === 'ready_to_ship');
  });
});
