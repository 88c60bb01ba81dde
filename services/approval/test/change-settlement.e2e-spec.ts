import { anOrderSubmission, authHeader, grandTotalOf, testTopicPrefix, uniqueSuffix, type TestRole } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, eventually, type Body } from './support/cluster';

/*
 * Issue #13, what follows an approved change request (订单变更), with order-intake, approval,
 * inventory and tracking each its own process on its own database (real Kafka + PostgreSQL):
 * the price difference (payment due and held / partial refund), an address written into the order
 * through approval's private command (never published in clear), and units an earlier change added
 * given back from that change's own reservation.
 */

const cluster = new Cluster(testTopicPrefix());
const SKU = 'CUSTOM-TEA-SET';
const CUP = 'TEA-CUP-01';
const actors = {
  sales: { id: 'u-sales-01', role: 'sales' },
  designer: { id: 'u-design-01', role: 'designer' },
  cost: { id: 'u-cost-01', role: 'cost_accountant' },
  gm: { id: 'u-gm-01', role: 'general_manager' },
  cs: { id: 'u-cs-01', role: 'customer_service' },
  warehouse: { id: 'u-wh-01', role: 'warehouse' },
  finance: { id: 'u-fin-01', role: 'finance' },
} as const;
type Who = keyof typeof actors;

/** The person's token (their role's demo user), plus the X-Actor headers approval read before #16. */
async function as(who: Who): Promise<Record<string, string>> {
  const a = actors[who];
  return { ...(await authHeader(a.role as TestRole)), 'x-actor-id': a.id, 'x-actor-role': a.role };
}

const intake = (method: string, path: string, body?: unknown) => call(cluster.procs['order-intake'].httpUrl, method, path, body, { 'idempotency-key': `k-${uniqueSuffix()}` });
const approval = async (method: string, path: string, body?: unknown, who?: Who, key?: string) =>
  call(cluster.procs.approval.httpUrl, method, path, body, { ...(who ? await as(who) : {}), ...(key ? { 'idempotency-key': key } : {}) });

async function placeCustomOrder(category = 'custom'): Promise<string> {
  const submission = anOrderSubmission({
    channelOrderId: `TM${Date.now()}${uniqueSuffix()}`,
    lines: [{ lineId: 'L1', sku: SKU, title: '定制茶具套装（刻字）', quantity: 1, unitPrice: 880_000, lineDiscount: 0, category }],
  });
  const placed = await intake('POST', '/api/orders', submission);
  expect(placed.status, JSON.stringify(placed.json)).toBe(201);
  const orderId = placed.json.orderId as string;
  const paid = await intake('POST', `/api/orders/${orderId}/payments`, { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}` });
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
  return orderId;
}

async function orderStage(orderId: string, stage: string): Promise<Body> {
  return eventually(`order ${orderId} ${stage}`, async () => {
    const r = await intake('GET', `/api/orders/${orderId}`);
    return r.json?.stage === stage ? r.json : undefined;
  });
}

async function approvalAt(orderId: string, step: string | null, status = 'pending'): Promise<Body> {
  return eventually(`approval of ${orderId} at ${step ?? status}`, async () => {
    const r = await approval('GET', `/api/approvals?orderId=${orderId}`, undefined, 'gm');
    const a = r.json?.items?.[0];
    return a && a.currentStep === step && a.status === status ? a : undefined;
  });
}

async function decide(approvalId: string, step: string, verb: 'approve' | 'reject' | 'return', who: Who, body: Record<string, unknown> = {}) {
  const r = await approval('POST', `/api/approvals/${approvalId}/steps/${step}/${verb}`, body, who, `k-${uniqueSuffix()}`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

async function timeline(orderId: string, until: (types: string[]) => boolean, what: string): Promise<{ type: string; what: { zh: string } }[]> {
  return eventually(what, async () => {
    const r = await call(cluster.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    const items = (r.json?.timeline ?? []) as { type: string; what: { zh: string } }[];
    return until(items.map((t) => t.type)) ? items : undefined;
  });
}

/** A change request raised by customer service, taken through CS -> warehouse (-> finance) approvals. */
async function raiseAndApprove(orderId: string, body: Record<string, unknown>, opts: { finance?: boolean } = {}) {
  const key = `k-${uniqueSuffix()}`;
  // Approval's order snapshot trails the order by up to ~0.3 s (its watcher batches, issue #10).
  const raised = await eventually(`change request for ${orderId} past CHANGE_ORDER_UNKNOWN`, async () => {
    const r = await approval('POST', '/api/change-requests', { orderId, ...body }, 'cs', key);
    return r.status === 404 && r.json.code === 'CHANGE_ORDER_UNKNOWN' ? undefined : r;
  }, 30_000);
  expect(raised.status, JSON.stringify(raised.json)).toBe(201);
  const id = raised.json.approvalId as string;
  await decide(id, 'cs_review', 'approve', 'cs');
  await decide(id, 'warehouse_review', 'approve', 'warehouse');
  if (opts.finance ?? true) await decide(id, 'finance_review', 'approve', 'finance');
  return raised.json;
}

async function changeOf(approvalId: string, status: string): Promise<Body> {
  return eventually(`change ${approvalId} ${status}`, async () => {
    const r = await approval('GET', `/api/approvals/${approvalId}`, undefined, 'gm');
    return r.json?.change?.status === status ? r.json : undefined;
  });
}

beforeAll(async () => {
  await Promise.all([
    cluster.start('inventory', 'inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }),
    cluster.start('order-intake', 'order-intake'),
    cluster.start('approval', 'approval', { APPROVAL_TIMER_POLL: '300ms' }),
    cluster.start('tracking', 'tracking', { TRACKING_CONSUMER_GROUP: `tracking-e2e-${uniqueSuffix()}` }),
  ]);
  const inv = cluster.procs.inventory.httpUrl;
  expect((await call(inv, 'PUT', '/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
  for (const [sku, name] of [[SKU, '定制茶具套装'], [CUP, '配套茶杯']]) {
    expect((await call(inv, 'PUT', `/api/stock/skus/${sku}`, { name })).status).toBe(200);
    expect((await call(inv, 'POST', '/api/stock/receipts', { sku, warehouseId: 'WH-HZ-01', quantity: 100, reference: `PO-E2E-${sku}` })).status).toBe(201);
  }
}, 900_000);

afterAll(async () => {
  await cluster.stop();
}, 120_000);

describe('change requests: price difference, address, stock of earlier changes (#13)', () => {
  it('a change raising the price of a paid order makes the difference due: held, not released after its approval, released once ConfirmPayment pays exactly it', async () => {
    const orderId = await placeCustomOrder();
    const custom = await approvalAt(orderId, 'sales_review');
    const before = await orderStage(orderId, 'awaiting_approval');
    const raised = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 1, unitPrice: 8_800 }], note: '加一个茶杯' });
    expect(raised.change.diff.priceDifference).toBe(8_800);
    await changeOf(raised.approvalId, 'approved');
    const held = await eventually('held for the payment due', async () => {
      const r = await intake('GET', `/api/orders/${orderId}`);
      return typeof r.json?.hold?.reason === 'string' && r.json.hold.reason.startsWith('change payment due') ? r.json : undefined;
    });
    expect(held.totals.grandTotal).toBe(before.totals.grandTotal + 8_800);
    expect(held.payment.amount).toBe(before.totals.grandTotal);
    // The custom-order chain grants: recorded, but the order is not released while the difference is due.
    for (const [step, who] of [['sales_review', 'sales'], ['design_review', 'designer'], ['cost_review', 'cost'], ['gm_approval', 'gm']] as const) await decide(custom.approvalId, step, 'approve', who);
    await timeline(orderId, (types) => types.includes('OrderApproved') && types.includes('OrderPaymentDue'), 'OrderApproved and OrderPaymentDue on the timeline');
    const waiting = await intake('GET', `/api/orders/${orderId}`);
    expect(waiting.json).toMatchObject({ stage: 'awaiting_approval', approval: { status: 'granted' } });
    const wrong = await intake('POST', `/api/orders/${orderId}/payments`, { amount: 8_799, currency: 'CNY', paymentRef: `chg-${orderId}` });
    expect(wrong.status, JSON.stringify(wrong.json)).toBe(422);
    expect(wrong.json).toMatchObject({ code: 'PAYMENT_AMOUNT_MISMATCH' });
    const paid = await intake('POST', `/api/orders/${orderId}/payments`, { amount: 8_800, currency: 'CNY', paymentRef: `chg-${orderId}` });
    expect(paid.status, JSON.stringify(paid.json)).toBe(200);
    const ready = await orderStage(orderId, 'ready_to_ship');
    expect(ready.payment.amount).toBe(before.totals.grandTotal + 8_800);
    expect(ready.hold).toBeNull();
  }, 240_000);

  it('a change lowering the price of a paid order asks finance for a partial refund, confirmed through the usual refund confirmation; the order goes on', async () => {
    const orderId = await placeCustomOrder('tea');
    const before = await orderStage(orderId, 'ready_to_ship');
    // The order has one line of 1: add a line (paid), then remove it again.
    const add = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 1, unitPrice: 8_800 }] });
    await changeOf(add.approvalId, 'approved');
    await eventually('added', async () => ((await intake('GET', `/api/orders/${orderId}`)).json?.lines?.length === 2 ? true : undefined));
    expect((await intake('POST', `/api/orders/${orderId}/payments`, { amount: 8_800, currency: 'CNY', paymentRef: `chg-${orderId}` })).status).toBe(200);
    const removed = await eventually('the snapshot knows L2', async () => {
      const r = await approval('POST', '/api/change-requests', { orderId, removeLineIds: ['L2'] }, 'cs', `k-${uniqueSuffix()}`);
      return r.status === 201 ? r.json : undefined;
    });
    for (const [step, who] of [['cs_review', 'cs'], ['warehouse_review', 'warehouse'], ['finance_review', 'finance']] as const) await decide(removed.approvalId, step, 'approve', who);
    await timeline(orderId, (types) => types.includes('OrderPartialRefundRequested'), 'partial refund requested on the timeline');
    const confirmed = await eventually('refund confirmed', async () => {
      const r = await call(cluster.procs['order-intake'].httpUrl, 'POST', `/api/orders/${orderId}/refunds/confirm`, { amount: 8_800 }, { 'idempotency-key': `k-${uniqueSuffix()}`, ...(await authHeader('finance')) });
      return r.status === 200 ? r.json : undefined;
    });
    expect(confirmed.stage).toBe('ready_to_ship');
    expect(confirmed.totals.grandTotal).toBe(before.totals.grandTotal);
    await timeline(orderId, (types) => types.includes('OrderPartialRefunded'), 'partial refund paid on the timeline');
  }, 240_000);

  it('an address, carrier service and invoice change is written into the order by the private command; the clear address is published nowhere, tracking shows it masked', async () => {
    const orderId = await placeCustomOrder('tea');
    await orderStage(orderId, 'ready_to_ship');
    const address = { province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路', detail: '88号', recipient: '韩梅梅', phone: '13900001111' };
    const raised = await raiseAndApprove(orderId, { shippingAddress: address, shippingMethod: 'express', invoice: { type: 'company', title: '宁波茶韵贸易有限公司', taxId: '91330200MA2XXXXX1X' }, note: '客户搬家' }, { finance: false });
    expect(raised.change.diff).toMatchObject({ shippingMethod: { after: 'express' }, invoice: { after: { type: 'company', titleMasked: '宁波茶韵贸易有限公司' } } });
    expect(raised.change.diff.shippingAddress.after).toEqual({ province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山******', recipientMasked: '韩**', phoneMasked: '139****1111' });
    const clear = /中山西路|13900001111|韩梅梅/;
    expect(JSON.stringify(raised)).not.toMatch(clear);
    const changed = await eventually('the order moved', async () => {
      const r = await intake('GET', `/api/orders/${orderId}`);
      return r.json?.shippingAddress?.city === '宁波市' ? r.json : undefined;
    });
    expect(changed.shippingAddress).toMatchObject({ province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山******', recipientMasked: '韩**', phoneMasked: '139****1111' });
    expect(changed.stage).toBe('ready_to_ship');
    const t = await timeline(orderId, (types) => types.includes('OrderChanged') && types.includes('ChangeApproved'), 'OrderChanged on the timeline');
    expect(t.find((x) => x.type === 'OrderChanged')?.what.zh).toContain('新地址 浙江省宁波市海曙区中山******');
    expect(t.find((x) => x.type === 'OrderChanged')?.what.zh).toContain('配送方式 express，发票抬头 宁波茶韵贸易有限公司');
    const tracked = await call(cluster.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    expect(tracked.json.order).toMatchObject({ province: '浙江省', city: '宁波市' });
    expect(JSON.stringify(tracked.json)).not.toMatch(clear);
    expect(JSON.stringify((await approval('GET', `/api/approvals/${raised.approvalId}`)).json)).not.toMatch(clear);
  }, 240_000);

  it('units an earlier change added are released from that change\'s own reservation when a later change removes them (partial quantity)', async () => {
    const orderId = await placeCustomOrder('tea');
    await orderStage(orderId, 'ready_to_ship');
    const inv = cluster.procs.inventory.httpUrl;
    const open = async (reservation: string) =>
      ((await call(inv, 'GET', `/api/stock/reservations/${reservation}`)).json?.openLines ?? []).map((l: { lineId: string; quantity: number }) => `${l.lineId}:${l.quantity}`).sort() as string[];
    const added = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 3, unitPrice: 8_800 }] });
    await changeOf(added.approvalId, 'approved');
    await eventually('applied', async () => ((await intake('GET', `/api/orders/${orderId}`)).json?.lines?.length === 2 ? true : undefined));
    expect(await open(`chg-${added.approvalId}`)).toEqual(['L2:3']);
    // 3 cups -> 1: two come back from the first change's reservation; the order's own keeps its tea set.
    const lowered = await eventually('the snapshot knows L2', async () => {
      const r = await approval('POST', '/api/change-requests', { orderId, quantities: [{ lineId: 'L2', quantity: 1 }] }, 'cs', `k-${uniqueSuffix()}`);
      return r.status === 201 ? r.json : undefined;
    });
    for (const [step, who] of [['cs_review', 'cs'], ['warehouse_review', 'warehouse'], ['finance_review', 'finance']] as const) await decide(lowered.approvalId, step, 'approve', who);
    await eventually('two cups released from the change\'s reservation', async () => ((await open(`chg-${added.approvalId}`)).join() === 'L2:1' ? true : undefined));
    expect(await open(orderId)).toEqual(['L1:1']);
    // The last cup goes too when the line is removed.
    const gone = await eventually('the snapshot knows L2 x1', async () => {
      const r = await approval('POST', '/api/change-requests', { orderId, removeLineIds: ['L2'] }, 'cs', `k-${uniqueSuffix()}`);
      return r.status === 201 && r.json.change.diff.lines.removed[0]?.quantity === 1 ? r.json : undefined;
    });
    for (const [step, who] of [['cs_review', 'cs'], ['warehouse_review', 'warehouse'], ['finance_review', 'finance']] as const) await decide(gone.approvalId, step, 'approve', who);
    await eventually('the last cup released', async () => ((await open(`chg-${added.approvalId}`)).length === 0 ? true : undefined));
    expect(await open(orderId)).toEqual(['L1:1']);
  }, 240_000);
});
