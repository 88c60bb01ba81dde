import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { anOrderSubmission, grandTotalOf, kafkaBrokers, personaHeader, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, eventually, type Body } from './support/cluster';

/*
 * order-intake, approval, inventory and tracking, each its own process on its own database, one
 * topic prefix. A custom-made line makes order-intake's flow rule require the custom-order chain
 * (services/approval/chains/default.chains.yaml): sales -> designer -> cost_accountant ->
 * general_manager; people decide over approval's REST API.
 */

const cluster = new Cluster(testTopicPrefix());
const SKU = 'CUSTOM-TEA-SET';
const CUP = 'TEA-CUP-01';
const NO_STOCK = 'TEA-TRAY-09';
/** Only the partial-release scenario uses it, so its stock levels are its own. */
const CADDY = 'TEA-CADDY-03';
/** Stands in for the fulfillment service: publishes what it would on fulfillment.events.v1. */
const fulfillment = new EventPublisher({ kafka: createKafka({ brokers: kafkaBrokers(), clientId: `fake-fulfillment-${uniqueSuffix()}` }), topicPrefix: cluster.prefix });
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

const intake = (method: string, path: string, body?: unknown) => call(cluster.procs['order-intake'].httpUrl, method, path, body, { 'idempotency-key': `k-${uniqueSuffix()}` });
// Each person calls with their own token from the issuer (a persona of the role's demo user): the
// actor approval records is the token's subject and role (issue #16).
const approval = async (method: string, path: string, body?: unknown, who?: Who, key?: string) =>
  call(cluster.procs.approval.httpUrl, method, path, body, { ...(who ? await personaHeader(actors[who].id, actors[who].role) : {}), ...(key ? { 'idempotency-key': key } : {}) });

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

/** The order's approval once its current step is `step`. */
async function approvalAt(orderId: string, step: string | null, status = 'pending'): Promise<Body> {
  return eventually(`approval of ${orderId} at ${step ?? status}`, async () => {
    const r = await approval('GET', `/api/approvals?orderId=${orderId}`);
    const a = r.json?.items?.[0];
    return a && a.currentStep === step && a.status === status ? a : undefined;
  });
}

async function decide(approvalId: string, step: string, verb: 'approve' | 'reject' | 'return', who: Who, body: Record<string, unknown> = {}) {
  const r = await approval('POST', `/api/approvals/${approvalId}/steps/${step}/${verb}`, body, who, `k-${uniqueSuffix()}`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

beforeAll(async () => {
  await Promise.all([
    cluster.start('inventory', 'inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }),
    cluster.start('order-intake', 'order-intake'),
    // The driven clock: only the expiry scenario (last in this file) moves time.
    cluster.start('approval', 'approval', { APPROVAL_DRIVEN_CLOCK: 'on', APPROVAL_TIMER_POLL: '300ms' }),
    cluster.start('tracking', 'tracking', { TRACKING_CONSUMER_GROUP: `tracking-e2e-${uniqueSuffix()}` }),
  ]);
  const inv = cluster.procs.inventory.httpUrl;
  expect((await call(inv, 'PUT', '/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
  expect((await call(inv, 'PUT', `/api/stock/skus/${SKU}`, { name: '定制茶具套装' })).status).toBe(200);
  const received = await call(inv, 'POST', '/api/stock/receipts', { sku: SKU, warehouseId: 'WH-HZ-01', quantity: 100, reference: 'PO-E2E' });
  expect(received.status, JSON.stringify(received.json)).toBe(201);
  for (const [sku, name] of [[CUP, '配套茶杯'], [NO_STOCK, '茶盘'], [CADDY, '茶叶罐']]) expect((await call(inv, 'PUT', `/api/stock/skus/${sku}`, { name })).status).toBe(200);
  expect((await call(inv, 'POST', '/api/stock/receipts', { sku: CUP, warehouseId: 'WH-HZ-01', quantity: 100, reference: 'PO-E2E-2' })).status).toBe(201);
  expect((await call(inv, 'POST', '/api/stock/receipts', { sku: CADDY, warehouseId: 'WH-HZ-01', quantity: 10, reference: 'PO-E2E-3' })).status).toBe(201);
  await fulfillment.connect();
}, 300_000);

afterAll(async () => {
  await fulfillment.disconnect().catch(() => undefined);
  await cluster.stop();
}, 120_000);

async function packed(orderId: string, shipmentId: string): Promise<void> {
  const envelope: EventEnvelope = {
    eventId: `evt-${uniqueSuffix()}`,
    type: 'ShipmentPacked',
    schemaVersion: 1,
    streamId: `shipment-${shipmentId}`,
    streamPosition: 0,
    occurredAt: new Date().toISOString(),
    correlationId: `corr-${orderId}`,
    causationId: null,
    actor: { kind: 'user', id: 'u-wh-01', role: 'warehouse' },
    data: { orderId, shipmentId, waybillNo: `SF${uniqueSuffix()}`, warehouseId: 'WH-HZ-01' },
  };
  await fulfillment.publish([{ topic: Topics.fulfillmentEvents, key: orderId, envelope }]);
}

async function timeline(orderId: string, until: (types: string[]) => boolean, what: string): Promise<{ type: string; what: { zh: string } }[]> {
  return eventually(what, async () => {
    const r = await call(cluster.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    const items = (r.json?.timeline ?? []) as { type: string; what: { zh: string } }[];
    return until(items.map((t) => t.type)) ? items : undefined;
  });
}

/** A change request raised by customer service, taken through CS -> warehouse (-> finance) approvals. */
async function raiseAndApprove(orderId: string, body: Record<string, unknown>, opts: { finance?: boolean; who?: Who } = {}) {
  const key = `k-${uniqueSuffix()}`;
  // Approval's order snapshot trails the order by up to ~0.3 s (its watcher batches, issue #10):
  // an order that just became ready_to_ship may still be unknown to it for a moment.
  const raised = await eventually(`change request for ${orderId} accepted or refused for a reason other than an unknown order`, async () => {
    const r = await approval('POST', '/api/change-requests', { orderId, ...body }, opts.who ?? 'cs', key);
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
    const r = await approval('GET', `/api/approvals/${approvalId}`);
    return r.json?.change?.status === status ? r.json : undefined;
  });
}

describe('approval chains across services', () => {
  it('a custom order goes sales -> designer -> cost accountant -> general manager, then to ready_to_ship', async () => {
    const orderId = await placeCustomOrder();
    const first = await approvalAt(orderId, 'sales_review');
    expect(first).toMatchObject({ chain: 'custom-order', chainVersion: '2026.12.1', kind: 'order', grandTotal: expect.any(Number) });
    expect((await orderStage(orderId, 'awaiting_approval')).approval).toMatchObject({ chain: 'custom-order', status: 'pending' });

    // The designer's inbox is empty until the sales step is approved; a designer cannot decide the sales step.
    const wrong = await approval('POST', `/api/approvals/${first.approvalId}/steps/sales_review/approve`, {}, 'designer');
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({ code: 'APPROVAL_NOT_AN_APPROVER' });
    const salesInbox = await approval('GET', '/api/approvals/inbox', undefined, 'sales');
    expect(salesInbox.json.items.map((i: { approvalId: string }) => i.approvalId)).toContain(first.approvalId);
    expect(salesInbox.json.items.find((i: { approvalId: string }) => i.approvalId === first.approvalId)).toMatchObject({ step: 'sales_review', sla: 'green', via: ['role:sales'] });
    // The general manager's inbox does not hold the sales step, but the overview of every pending
    // step shows it, with whom it waits for; filtered by role, it is there for sales only.
    const pendingIds = async (query: string) => ((await approval('GET', `/api/approvals/pending${query}`, undefined, 'gm')).json.items as { approvalId: string }[]).map((i) => i.approvalId);
    expect((await approval('GET', '/api/approvals/inbox', undefined, 'gm')).json.items.map((i: { approvalId: string }) => i.approvalId)).not.toContain(first.approvalId);
    const overview = await approval('GET', '/api/approvals/pending', undefined, 'gm');
    expect(overview.status).toBe(200);
    expect(overview.json.items.find((i: { approvalId: string }) => i.approvalId === first.approvalId)).toMatchObject({ orderId, step: 'sales_review', sla: 'green', principals: ['role:sales'], via: [] });
    expect(await pendingIds('?role=sales')).toContain(first.approvalId);
    expect(await pendingIds('?role=designer')).not.toContain(first.approvalId);
    for (const [query, field] of [['?role=boss', 'role'], ['?limit=0', 'limit']]) {
      const bad = await approval('GET', `/api/approvals/pending${query}`, undefined, 'gm');
      expect(bad.status, query).toBe(400);
      expect(JSON.stringify(bad.json), query).toContain(field);
    }

    const afterSales = await decide(first.approvalId, 'sales_review', 'approve', 'sales', { comment: '客户已确认刻字内容' });
    // The board's awaiting-approval SLA is the current step's: the design step's start and due time.
    const design = afterSales.steps.find((s: { step: string }) => s.step === 'design_review');
    await eventually('tracking SLA of the design step', async () => {
      const sla = (await call(cluster.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`)).json?.order?.sla;
      return sla?.segment === 'approval' && sla.startedAt === design.startedAt && sla.dueAt === design.dueAt ? sla : undefined;
    });
    await decide(first.approvalId, 'design_review', 'approve', 'designer', { attachments: [{ name: 'drawing-v1.pdf', url: 'https://files.example.com/drawing-v1.pdf' }] });
    await decide(first.approvalId, 'cost_review', 'approve', 'cost');
    const last = await decide(first.approvalId, 'gm_approval', 'approve', 'gm');
    expect(last).toMatchObject({ status: 'granted', currentStep: null });
    expect(last.steps.map((s: { step: string; status: string; decidedBy: string }) => [s.step, s.status, s.decidedBy])).toEqual([
      ['sales_review', 'approved', 'u-sales-01'],
      ['design_review', 'approved', 'u-design-01'],
      ['cost_review', 'approved', 'u-cost-01'],
      ['gm_approval', 'approved', 'u-gm-01'],
    ]);
    const ready = await orderStage(orderId, 'ready_to_ship');
    expect(ready.approval).toMatchObject({ chain: 'custom-order', status: 'granted' });

    // Tracking shows the chain on the order: each step's state, actor and time.
    const tracked = await eventually('the chain in tracking', async () => {
      const r = await call(cluster.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
      const chain = r.json?.approvalChains?.[0];
      return chain?.status === 'granted' ? chain : undefined;
    });
    expect(tracked).toMatchObject({ approvalId: first.approvalId, chain: 'custom-order', chainVersion: '2026.12.1' });
    expect(tracked.steps.map((s: { step: string; state: string; actor: { id: string } | null; at: string | null; dueAt: string | null }) => [s.step, s.state, s.actor?.id, typeof s.at, typeof s.dueAt])).toEqual([
      ['sales_review', 'approved', 'u-sales-01', 'string', 'string'],
      ['design_review', 'approved', 'u-design-01', 'string', 'string'],
      ['cost_review', 'approved', 'u-cost-01', 'string', 'string'],
      ['gm_approval', 'approved', 'u-gm-01', 'string', 'string'],
    ]);
  }, 180_000);

  it('a rejection at cost review ends the chain and order-intake cancels the order', async () => {
    const orderId = await placeCustomOrder();
    const a = await approvalAt(orderId, 'sales_review');
    await decide(a.approvalId, 'sales_review', 'approve', 'sales');
    await decide(a.approvalId, 'design_review', 'approve', 'designer');
    const rejected = await decide(a.approvalId, 'cost_review', 'reject', 'cost', { reason: '材料成本超出报价' });
    expect(rejected).toMatchObject({ status: 'rejected', reason: '材料成本超出报价' });
    const cancelled = await orderStage(orderId, 'cancelled');
    expect(cancelled.approval).toMatchObject({ status: 'rejected' });
    expect(cancelled.cancellation.reason).toContain('材料成本超出报价');
    const late = await approval('POST', `/api/approvals/${a.approvalId}/steps/gm_approval/approve`, {}, 'gm');
    expect(late.json).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
  }, 180_000);

  it('returned for changes keeps the order awaiting approval; after a resubmission the chain goes on and grants', async () => {
    const orderId = await placeCustomOrder();
    const a = await approvalAt(orderId, 'sales_review');
    await decide(a.approvalId, 'sales_review', 'approve', 'sales');
    const returned = await decide(a.approvalId, 'design_review', 'return', 'designer', { comment: '刻字位置需调整，请客户确认', attachments: [{ name: 'markup.png', url: 'https://files.example.com/markup.png' }] });
    expect(returned).toMatchObject({ status: 'returned', currentStep: 'design_review' });
    // Give order-intake time to see ApprovalReturned: the order must stay, not be cancelled.
    await approvalAt(orderId, 'design_review', 'returned');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await orderStage(orderId, 'awaiting_approval')).approval).toMatchObject({ status: 'pending' });
    const refused = await approval('POST', `/api/approvals/${a.approvalId}/steps/design_review/approve`, {}, 'designer');
    expect(refused.json).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
    // In nobody's inbox now: the returned list is where the requester finds it, with who returned it and why.
    const list = await approval('GET', '/api/approvals/returned', undefined, 'sales');
    expect(list.status, JSON.stringify(list.json)).toBe(200);
    expect(list.json.items.find((x: { approvalId: string }) => x.approvalId === a.approvalId)).toMatchObject({ orderId, step: 'design_review', comment: '刻字位置需调整，请客户确认', returnedBy: actors.designer.id });

    const again = await approval('POST', `/api/approvals/${a.approvalId}/resubmit`, { comment: '客户已确认新位置' }, 'sales', `k-${uniqueSuffix()}`);
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(again.json).toMatchObject({ status: 'pending', currentStep: 'design_review' });
    expect(again.json.steps[1]).toMatchObject({ attempt: 2, status: 'active' });
    expect((await approval('GET', '/api/approvals/returned', undefined, 'sales')).json.items.map((x: { approvalId: string }) => x.approvalId)).not.toContain(a.approvalId);
    await decide(a.approvalId, 'design_review', 'approve', 'designer');
    await decide(a.approvalId, 'cost_review', 'approve', 'cost');
    await decide(a.approvalId, 'gm_approval', 'approve', 'gm');
    await orderStage(orderId, 'ready_to_ship');
  }, 180_000);

  it('the same Idempotency-Key replays the first reply; with another body it is refused naming the key', async () => {
    const orderId = await placeCustomOrder();
    const a = await approvalAt(orderId, 'sales_review');
    const key = `k-${uniqueSuffix()}`;
    const first = await approval('POST', `/api/approvals/${a.approvalId}/steps/sales_review/approve`, { comment: 'ok' }, 'sales', key);
    const replay = await approval('POST', `/api/approvals/${a.approvalId}/steps/sales_review/approve`, { comment: 'ok' }, 'sales', key);
    expect(first.status).toBe(200);
    expect(replay).toEqual(first);
    const reused = await approval('POST', `/api/approvals/${a.approvalId}/steps/sales_review/approve`, { comment: 'other' }, 'sales', key);
    expect(reused.status).toBe(422);
    expect(reused.json.message).toContain(key);
    const bad = await approval('POST', `/api/approvals/${a.approvalId}/steps/design_review/reject`, { reason: '' }, 'designer');
    expect(bad.status).toBe(400);
    // No token: refused before anything is decided (issue #16; X-Actor-* headers no longer say who).
    const anonymous = await call(cluster.procs.approval.httpUrl, 'POST', `/api/approvals/${a.approvalId}/steps/design_review/approve`, {}, { authorization: '', 'x-actor-id': 'u-design-01', 'x-actor-role': 'designer' });
    expect(anonymous.status).toBe(401);
  }, 180_000);

  it('approve racing cancel: exactly one of granted / withdrawn wins, and the reply agrees with it', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const orderId = await placeCustomOrder();
      const a = await approvalAt(orderId, 'sales_review');
      await decide(a.approvalId, 'sales_review', 'approve', 'sales');
      await decide(a.approvalId, 'design_review', 'approve', 'designer');
      await decide(a.approvalId, 'cost_review', 'approve', 'cost');
      // The cancel reaches approval as WithdrawApproval through Kafka; the approve is sent a little later each round.
      const [cancel, approve] = await Promise.all([
        intake('POST', `/api/orders/${orderId}/cancel`, { reason: '买家取消' }),
        new Promise((r) => setTimeout(r, i * 250)).then(() => approval('POST', `/api/approvals/${a.approvalId}/steps/gm_approval/approve`, {}, 'gm')),
      ]);
      expect(cancel.status, JSON.stringify(cancel.json)).toBe(200);
      const final = await eventually('approval decided', async () => {
        const r = await approval('GET', `/api/approvals/${a.approvalId}`);
        return r.json && ['granted', 'withdrawn'].includes(r.json.status as string) ? r.json : undefined;
      });
      await orderStage(orderId, 'cancelled');
      if (final.status === 'granted') {
        expect(approve.status).toBe(200);
      } else {
        expect(approve.status).toBe(409);
        expect(approve.json).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
      }
      // Nothing changes afterwards: the loser left no trace.
      await new Promise((r) => setTimeout(r, 1000));
      expect((await approval('GET', `/api/approvals/${a.approvalId}`)).json).toMatchObject({ status: final.status, revision: final.revision });
      outcomes.push(final.status as string);
    }
    console.log(`approve vs cancel outcomes: ${outcomes.join(', ')}`);
  }, 300_000);
});

describe('order change requests (订单变更)', () => {
  it('adding a line: CS -> warehouse -> finance with the diff and price difference; stock reserved on approval; applied to the order as one event', async () => {
    const orderId = await placeCustomOrder('tea');
    const before = await orderStage(orderId, 'ready_to_ship');
    const raised = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 2, unitPrice: 8_800 }], note: '客户加购茶杯' }, { finance: false });
    expect(raised).toMatchObject({ kind: 'change', chain: 'order-change', currentStep: 'cs_review' });
    expect(raised.change.diff).toMatchObject({ lines: { added: [{ lineId: 'L2', sku: CUP, quantity: 2 }], removed: [], changed: [] }, priceDifference: 17_600 });
    expect(raised.change.diff.totals.before.grandTotal).toBe(before.totals.grandTotal);
    await decide(raised.approvalId, 'finance_review', 'approve', 'finance', { comment: '差价 176 元待补款' });

    const approved = await changeOf(raised.approvalId, 'approved');
    expect(approved.change.reservationId).toBe(`chg-${raised.approvalId}`);
    const reservation = await call(cluster.procs.inventory.httpUrl, 'GET', `/api/stock/reservations/chg-${raised.approvalId}`);
    expect(reservation.status, JSON.stringify(reservation.json)).toBe(200);
    expect(JSON.stringify(reservation.json)).toContain(CUP);
    const changed = await eventually('order changed', async () => {
      const r = await intake('GET', `/api/orders/${orderId}`);
      return r.json?.lines?.length === 2 ? r.json : undefined;
    });
    expect(changed.totals.grandTotal).toBe(before.totals.grandTotal + 17_600);
    expect(changed.stage).toBe('ready_to_ship');
    const t = await timeline(orderId, (types) => types.includes('OrderChanged'), 'OrderChanged on the timeline');
    expect(t.filter((x) => x.type === 'OrderChanged')).toHaveLength(1);
    expect(t.find((x) => x.type === 'OrderChanged')?.what.zh).toContain('+L2');
    for (const type of ['ApprovalRequested', 'ApprovalStepApproved', 'ApprovalGranted', 'ChangeApproved']) expect(t.map((x) => x.type)).toContain(type);
  }, 180_000);

  it('a change removing a line and lowering a quantity gives exactly those units back to inventory; the rest stays reserved', async () => {
    const submission = anOrderSubmission({
      channelOrderId: `TM${Date.now()}${uniqueSuffix()}`,
      lines: [
        { lineId: 'L1', sku: SKU, title: '茶具套装', quantity: 1, unitPrice: 880_000, lineDiscount: 0, category: 'tea' },
        { lineId: 'L2', sku: CADDY, title: '茶叶罐', quantity: 3, unitPrice: 5_000, lineDiscount: 0, category: 'tea' },
        { lineId: 'L3', sku: CUP, title: '配套茶杯', quantity: 2, unitPrice: 8_800, lineDiscount: 0, category: 'tea' },
      ],
    });
    const placed = await intake('POST', '/api/orders', submission);
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const orderId = placed.json.orderId as string;
    expect((await intake('POST', `/api/orders/${orderId}/payments`, { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}` })).status).toBe(200);
    await orderStage(orderId, 'ready_to_ship');
    const inv = cluster.procs.inventory.httpUrl;
    const caddy = async () => (await call(inv, 'GET', `/api/stock/skus/${CADDY}`)).json.total as { onHand: number; reserved: number; available: number };
    expect(await caddy()).toMatchObject({ onHand: 10, reserved: 3, available: 7 });
    const cupsBefore = (await call(inv, 'GET', `/api/stock/skus/${CUP}`)).json.total as { reserved: number; available: number };

    const raised = await raiseAndApprove(orderId, { removeLineIds: ['L3'], quantities: [{ lineId: 'L2', quantity: 1 }], note: '客户少要两个茶叶罐，不要茶杯' });
    expect(raised.change.diff.priceDifference).toBe(-(2 * 5_000 + 2 * 8_800));
    await eventually('order changed', async () => {
      const r = await intake('GET', `/api/orders/${orderId}`);
      return r.json?.lines?.length === 2 ? r.json : undefined;
    });
    // 2 caddies and the 2 cups go back; the order keeps 1 caddy (and its tea set) reserved.
    await eventually('caddies released', async () => {
      const t = await caddy();
      return t.reserved === 1 && t.available === 9 ? t : undefined;
    });
    await eventually('cups released', async () => {
      const t = (await call(inv, 'GET', `/api/stock/skus/${CUP}`)).json.total as { reserved: number; available: number };
      return t.reserved === cupsBefore.reserved - 2 && t.available === cupsBefore.available + 2 ? t : undefined;
    });
    const reservation = await call(inv, 'GET', `/api/stock/reservations/${orderId}`);
    expect(reservation.json.reservation.status).toBe('reserved');
    expect(reservation.json.openLines.map((l: { lineId: string; quantity: number }) => `${l.lineId}:${l.quantity}`).sort()).toEqual(['L1:1', 'L2:1']);
  }, 180_000);

  it('a change adding a line without stock is refused whole: nothing reserved, the order unchanged', async () => {
    const orderId = await placeCustomOrder('tea');
    const before = await orderStage(orderId, 'ready_to_ship');
    const raised = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 1, unitPrice: 8_800 }, { lineId: 'L3', sku: NO_STOCK, title: '茶盘', quantity: 1, unitPrice: 15_000 }] });
    const refused = await changeOf(raised.approvalId, 'refused');
    expect(refused.change.refusal).toMatchObject({ code: 'CHANGE_NO_STOCK' });
    expect(refused.change.refusal.reason).toContain(NO_STOCK);
    await timeline(orderId, (types) => types.includes('ChangeRefused'), 'ChangeRefused on the timeline');
    const after = await intake('GET', `/api/orders/${orderId}`);
    expect(after.json).toMatchObject({ stage: 'ready_to_ship', totals: before.totals });
    expect(after.json.lines).toHaveLength(1);
    // All-or-nothing: the cup that was in stock was not reserved either.
    const reservation = await call(cluster.procs.inventory.httpUrl, 'GET', `/api/stock/reservations/chg-${raised.approvalId}`);
    expect(JSON.stringify(reservation.json)).not.toMatch(/"status":"reserved"/);
  }, 180_000);

  it('frozen after packing: refused naming the shipment; a general manager override is recorded on the timeline', async () => {
    const orderId = await placeCustomOrder('tea');
    await orderStage(orderId, 'ready_to_ship');
    const shipmentId = `SHP-${uniqueSuffix()}`;
    await packed(orderId, shipmentId);
    await orderStage(orderId, 'packed');
    const body = { orderId, quantities: [{ lineId: 'L1', quantity: 2 }] };
    const frozen = await eventually('the freeze', async () => {
      const r = await approval('POST', '/api/change-requests', body, 'cs');
      return r.status === 409 ? r : undefined;
    });
    expect(frozen.json).toMatchObject({ code: 'CHANGE_FROZEN', details: { shipmentIds: [shipmentId] } });
    expect(frozen.json.message).toContain(shipmentId);
    const notGm = await approval('POST', '/api/change-requests', { ...body, override: { reason: '客户加急' } }, 'cs');
    expect(notGm.status).toBe(403);
    expect(notGm.json).toMatchObject({ code: 'CHANGE_OVERRIDE_NOT_ALLOWED' });
    const overridden = await approval('POST', '/api/change-requests', { ...body, override: { reason: '客户加急，仓库可拆包' } }, 'gm', `k-${uniqueSuffix()}`);
    expect(overridden.status, JSON.stringify(overridden.json)).toBe(201);
    const t = await timeline(orderId, (types) => types.includes('ApprovalFreezeOverridden'), 'override on the timeline');
    expect(t.find((x) => x.type === 'ApprovalFreezeOverridden')?.what.zh).toContain(shipmentId);

    // Approved, the change is applied and the packed shipment re-opened: the order is ready_to_ship again with the new quantity.
    const id = overridden.json.approvalId as string;
    await decide(id, 'cs_review', 'approve', 'cs');
    await decide(id, 'warehouse_review', 'approve', 'warehouse');
    await decide(id, 'finance_review', 'approve', 'finance');
    const reopened = await orderStage(orderId, 'ready_to_ship');
    expect(reopened.lines[0].quantity).toBe(2);
    const after = await timeline(orderId, (types) => types.includes('OrderChanged'), 'OrderChanged after the override');
    expect(after.filter((x) => x.type === 'OrderChanged')).toHaveLength(1);
  }, 180_000);

  it('an approved change racing packing has exactly one outcome: applied, or refused with its stock given back', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const orderId = await placeCustomOrder('tea');
      await orderStage(orderId, 'ready_to_ship');
      const raised = await raiseAndApprove(orderId, { addLines: [{ lineId: 'L2', sku: CUP, title: '配套茶杯', quantity: 1, unitPrice: 8_800 }] }, { finance: false });
      // The last approval and the warehouse packing go at once; packing is published a little later each round.
      await Promise.all([decide(raised.approvalId, 'finance_review', 'approve', 'finance'), new Promise((r) => setTimeout(r, i * 400)).then(() => packed(orderId, `SHP-${i}-${uniqueSuffix()}`))]);
      const t = await timeline(orderId, (types) => types.includes('OrderPacked') && (types.includes('OrderChanged') || types.includes('OrderChangeRefused')), 'the change outcome');
      await new Promise((r) => setTimeout(r, 1000));
      const types = (await timeline(orderId, () => true, 'timeline')).map((x) => x.type);
      const applied = types.filter((x) => x === 'OrderChanged').length;
      const refused = types.filter((x) => x === 'OrderChangeRefused').length;
      expect(applied + refused, JSON.stringify(t.map((x) => x.type))).toBe(1);
      const order = (await intake('GET', `/api/orders/${orderId}`)).json;
      if (applied) {
        expect(order.lines).toHaveLength(2);
        expect((await approval('GET', `/api/approvals/${raised.approvalId}`)).json.change.status).toBe('approved');
        outcomes.push('applied');
      } else {
        expect(order.lines).toHaveLength(1);
        const change = await changeOf(raised.approvalId, 'refused');
        expect(change.change.refusal.code).toBe('CHANGE_REFUSED_BY_ORDER');
        await eventually('change stock released', async () => {
          const r = await call(cluster.procs.inventory.httpUrl, 'GET', `/api/stock/reservations/chg-${raised.approvalId}`);
          return /released/.test(JSON.stringify(r.json)) ? r : undefined;
        });
        outcomes.push('refused');
      }
    }
    console.log(`change vs pack outcomes: ${outcomes.join(', ')}`);
  }, 300_000);
});

describe('expiry on the driven clock (last: it moves approval\'s time forward)', () => {
  it('a step nobody decides is reminded at 6 h, escalated at 8 h and expired 8 h later: the order is cancelled', async () => {
    const orderId = await placeCustomOrder();
    await orderStage(orderId, 'awaiting_approval');
    const a = await approvalAt(orderId, 'sales_review');
    const HOUR = 3_600_000;
    for (const ms of [6 * HOUR + 60_000, 2 * HOUR, 8 * HOUR]) {
      const r = await approval('POST', '/api/test/clock/advance', { ms });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      // Each timer in its turn: reminded, then escalated, then expired.
      await eventually(`timer after +${ms} ms`, async () => {
        const got = (await approval('GET', `/api/approvals/${a.approvalId}`)).json;
        const step = got?.steps?.[0];
        // null (not yet) must keep waiting: only a set time, or the rejection, ends the wait.
        const done = ms === 6 * HOUR + 60_000 ? step?.remindedAt : ms === 2 * HOUR ? step?.escalatedAt : got?.status === 'rejected' ? got : null;
        return done ?? undefined;
      }, 60_000).catch(async (e: Error) => {
        throw new Error(`${e.message}; due: ${JSON.stringify(r.json)}; approval: ${JSON.stringify((await approval('GET', `/api/approvals/${a.approvalId}`)).json)}`);
      });
    }
    const cancelled = await orderStage(orderId, 'cancelled');
    expect(JSON.stringify(cancelled)).toContain('sales_review');
    const t = await timeline(orderId, (types) => types.includes('OrderCancelled'), 'expiry on the timeline');
    for (const type of ['ApprovalStepReminded', 'ApprovalStepEscalated', 'ApprovalExpired', 'ApprovalRejected', 'OrderCancelled']) expect(t.map((x) => x.type)).toContain(type);
  }, 180_000);
});
