import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Topics } from '@flowline/contracts';
import { WrongExpectedVersion } from '@flowline/eventstore';
import { aCustomer, anOrderSubmission, commandMetadata } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ORDER_EVENT_TYPES } from '@flowline/contracts';
import type { OrderCommand } from '../domain/order.commands';
import type { OrderEvent } from '../domain/order.events';
import { ev, ORDER_ID, T } from '../../test/support/order.fixtures';
import { parseRuleSet } from '../domain/rules/rule-set.parser';
import { InMemoryIdempotencyStore } from '../infra/in-memory-idempotency-store';
import { InMemoryOrderStore } from '../infra/in-memory-order-store';
import { ChangeOrderHandler, OrderVersionMismatch } from './change-order.handler';
import { requestHash } from './idempotency';
import { routeRecorded } from './order-relay.routes';
import type { OrderChange } from './order-store.port';
import { PlaceOrderHandler } from './place-order.handler';
import { ProcessManagerRunner } from './process-manager.runner';
import { reactsTo } from '../api/messaging/process-manager.consumer';
import { ReservationTimeoutJob } from './reservation-timeout.job';
import { fixedRuleSet } from './rule-set.source';

const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../../rules/default.rules.yaml'), 'utf8')));
const NOW = '2025-11-25T08:00:00.000Z';

function setup() {
  const store = new InMemoryOrderStore();
  const changes = new ChangeOrderHandler(store, rules);
  return { store, changes, place: new PlaceOrderHandler(store, rules) };
}

let n = 0;
const orderId = () => `01JDGZ6M3V8Q00000000000${String(++n).padStart(3, '0')}`;

async function placed(s: ReturnType<typeof setup>, overrides: Parameters<typeof anOrderSubmission>[0] = {}) {
  const id = orderId();
  const r = await s.place.execute({ type: 'PlaceOrder', data: { orderId: id, order: anOrderSubmission({ channelOrderId: `C-${id}`, ...overrides }) }, metadata: commandMetadata({ now: NOW }) });
  return r.state;
}

const pay = (id: string, commandId = `pay-${id}`): Exclude<OrderCommand, { type: 'PlaceOrder' }> => ({
  type: 'ConfirmPayment',
  data: { orderId: id, amount: 26000, currency: 'CNY' },
  metadata: commandMetadata({ commandId, now: NOW }),
});

describe('PlaceOrderHandler', () => {
  it('a duplicate channel order returns the existing order, never a second one (also concurrently)', async () => {
    const s = setup();
    const sub = anOrderSubmission({ channelOrderId: 'DUP-1' });
    const results = await Promise.all([1, 2, 3].map(() => s.place.execute({ type: 'PlaceOrder', data: { orderId: orderId(), order: sub }, metadata: commandMetadata() })));
    expect(new Set(results.map((r) => r.state.orderId)).size).toBe(1);
    expect(results.map((r) => r.created).sort()).toEqual([false, false, true]);
    expect(await s.store.list({ limit: 10 })).toHaveLength(1);
  });

  it('an invalid order writes nothing', async () => {
    const s = setup();
    await expect(s.place.execute({ type: 'PlaceOrder', data: { orderId: orderId(), order: anOrderSubmission({ lines: [] }) }, metadata: commandMetadata() })).rejects.toMatchObject({ code: 'ORDER_INVALID' });
    expect(await s.store.list({ limit: 10 })).toEqual([]);
    expect(await s.store.events.readAll()).toEqual([]);
  });
});

describe('PlaceOrder with the payment (an order that arrives paid)', () => {
  const PAYMENT = { amount: 26000, currency: 'CNY', paymentRef: 'ALI-1' };
  const placeCmd = (id: string, overrides: Parameters<typeof anOrderSubmission>[0] = {}, commandId = `req-${id}`) =>
    ({ type: 'PlaceOrder', data: { orderId: id, order: anOrderSubmission({ channelOrderId: `C-${id}`, ...overrides }) }, metadata: commandMetadata({ commandId, now: NOW }) }) as const;

  it('stores what placing and then paying would, in one commit: OrderPlaced, OrderPaid and ReserveStock', async () => {
    const s = setup();
    const commits: OrderChange[] = [];
    const commit = s.store.commit.bind(s.store);
    s.store.commit = async (change: OrderChange) => {
      commits.push(change);
      return commit(change);
    };
    const id = orderId();
    const r = await s.place.execute(placeCmd(id), undefined, { payment: PAYMENT });
    expect(r.created).toBe(true);
    expect(r.state.status).toBe('paid');
    expect(commits).toHaveLength(1);
    expect(commits[0].events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    expect(commits[0].outbox?.map((e) => e.type)).toEqual(['ReserveStock']);
    expect(commits[0].events[1].data).toMatchObject({ amount: 26000, currency: 'CNY', paymentRef: 'ALI-1' });
    // The payment's ids derive from its own command id (the placement's + /payment): distinct, and the same on a repeat.
    expect(new Set(commits[0].events.map((e) => e.eventId)).size).toBe(2);
    expect(commits[0].events[1].metadata).toMatchObject({ causationId: `req-${id}/payment` });

    // The two-step path gives the same events and the same command to inventory.
    const other = orderId();
    await s.place.execute(placeCmd(other));
    await s.changes.execute(pay(other));
    expect((await s.store.events.readStream(`order-${other}`)).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderPaid']);
    expect((await s.store.events.readStream(`process-${other}`)).map((e) => e.type)).toEqual(['ReserveStock']);
  });

  it('a payment the order refuses (amount, currency, cash on delivery) refuses the placement: nothing stored', async () => {
    const s = setup();
    await expect(s.place.execute(placeCmd(orderId()), undefined, { payment: { ...PAYMENT, amount: 25999 } })).rejects.toMatchObject({ code: 'PAYMENT_AMOUNT_MISMATCH', details: { field: 'payment.amount' } });
    await expect(s.place.execute(placeCmd(orderId()), undefined, { payment: { ...PAYMENT, currency: 'USD' } })).rejects.toMatchObject({ code: 'PAYMENT_CURRENCY_MISMATCH' });
    await expect(s.place.execute(placeCmd(orderId(), { paymentMethod: 'cod' }), undefined, { payment: PAYMENT })).rejects.toMatchObject({
      code: 'ORDER_INVALID',
      details: { field: 'payment' },
    });
    expect(await s.store.list({ limit: 10 })).toEqual([]);
    expect(await s.store.events.readAll()).toEqual([]);
  });

  it('a channel order that is already an order is returned unchanged: the payment is not applied', async () => {
    const s = setup();
    const first = orderId();
    await s.place.execute(placeCmd(first, { channelOrderId: 'DUP-PAID' }));
    const again = await s.place.execute(placeCmd(orderId(), { channelOrderId: 'DUP-PAID' }), undefined, { payment: PAYMENT });
    expect(again).toMatchObject({ created: false, state: { orderId: first, status: 'placed' } });
    expect((await s.store.events.readStream(`order-${first}`)).map((e) => e.type)).toEqual(['OrderPlaced']);
  });
});

describe('ChangeOrderHandler', () => {
  it('a command id seen before returns the order as it is and appends nothing', async () => {
    const s = setup();
    const o = await placed(s);
    const first = await s.changes.execute(pay(o.orderId, 'pay-once'));
    const again = await s.changes.execute(pay(o.orderId, 'pay-once'));
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, revision: 1, events: [] });
    expect(await s.store.events.readStream(`order-${o.orderId}`)).toHaveLength(2);
  });

  it('If-Match that no longer holds -> OrderVersionMismatch, nothing appended', async () => {
    const s = setup();
    const o = await placed(s);
    await expect(s.changes.execute(pay(o.orderId), { expectedRevision: 3 })).rejects.toBeInstanceOf(OrderVersionMismatch);
    expect((await s.store.load(o.orderId)).revision).toBe(0);
  });

  it('events carry ids derived from the command id and the command as causation', async () => {
    const s = setup();
    const o = await placed(s);
    await s.changes.execute(pay(o.orderId, 'pay-x'));
    const [, paid] = await s.store.events.readStream(`order-${o.orderId}`);
    expect(paid.metadata).toMatchObject({ causationId: 'pay-x', occurredAt: NOW });
    expect(paid.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  /** A store where another writer appends right after each load, once. */
  function racing() {
    const s = setup();
    let raced = false;
    const commit = s.store.commit.bind(s.store);
    s.store.commit = async (change: OrderChange) => {
      if (!raced && change.expectedRevision !== 'no_stream') {
        raced = true;
        await s.changes.execute({ type: 'PlaceHold', data: { orderId: change.orderId, reason: 'someone else' }, metadata: commandMetadata({ now: NOW }) });
      }
      return commit(change);
    };
    return s;
  }

  it('a fact that lost the race is re-decided on the new state', async () => {
    const s = racing();
    const o = await placed(s);
    const r = await s.changes.execute(pay(o.orderId));
    expect(r.state.status).toBe('paid');
    expect(r.revision).toBe(2);
  });

  it('a person\'s decision that lost the race is refused (409 ORDER_CONCURRENT_MODIFICATION)', async () => {
    const s = racing();
    const o = await placed(s);
    await expect(s.changes.execute({ type: 'Cancel', data: { orderId: o.orderId, reason: 'x' }, metadata: commandMetadata({ now: NOW }) })).rejects.toMatchObject({
      code: 'ORDER_CONCURRENT_MODIFICATION',
    });
    expect((await s.store.load(o.orderId)).state.status).toBe('placed');
  });

  it('WrongExpectedVersion from the store surfaces as the 409 refusal after the retries for facts', async () => {
    const s = setup();
    const o = await placed(s);
    s.store.commit = async () => {
      throw new WrongExpectedVersion(`order-${o.orderId}`, 0, 1);
    };
    await expect(s.changes.execute(pay(o.orderId))).rejects.toMatchObject({ code: 'ORDER_CONCURRENT_MODIFICATION' });
  });
});

describe('relay routes', () => {
  it('publishes every order event on orders.events.v1 keyed by order id, with the PII masked', async () => {
    const s = setup();
    const o = await placed(s, { customer: aCustomer({ name: '欧阳娜娜', phone: '13600001234', email: 'nana@example.com' }) });
    const [stored] = await s.store.events.readStream(`order-${o.orderId}`);
    const route = routeRecorded(stored);
    expect(route).toMatchObject({ topic: Topics.orderEvents, key: o.orderId, type: 'OrderPlaced' });
    const data = route?.data as Record<string, unknown>;
    expect(data.customer).toEqual({ channelCustomerId: 'tb_buyer_8841', nickname: '小张爱买', nameMasked: '欧***', phoneMasked: '136****1234', email: 'n***@example.com', tags: [] });
    expect(data.shippingAddress).toEqual({ province: '浙江省', city: '杭州市', district: '西湖区', streetMasked: '文三******', postalCode: '310013', recipientMasked: '张*', phoneMasked: '138****5678' });
    const json = JSON.stringify(data);
    for (const secret of ['欧阳娜娜', '13600001234', '13812345678', '华星时代广场', 'nana@example.com', 'sellerRemark', 'receivedAt']) expect(json).not.toContain(secret);
  });

  it('maps every order event type to its integration event, naming the order', () => {
    const all: OrderEvent[] = [
      ...Object.values(ev).map((make) => (make as (arg?: never) => OrderEvent)()),
      { type: 'OrderRuleDecided', data: { orderId: ORDER_ID, ruleId: 'r', ruleSetVersion: '1', ruleSetHash: 'sha256:0', decision: 'ready_to_ship', decidedAt: T } },
      { type: 'OrderApprovalRejected', data: { orderId: ORDER_ID, chain: 'custom-order', approvalId: 'A', reason: 'no', rejectedAt: T } },
      {
        type: 'OrderChanged',
        data: {
          orderId: ORDER_ID, approvalId: 'A', changeRequestId: 'A', lines: [{ lineId: 'L2', sku: 'CUP', title: '茶杯', quantity: 1, unitPrice: 100, lineDiscount: 0 }],
          totals: { itemsTotal: 100, shippingFee: 0, orderDiscount: 0, grandTotal: 100, currency: 'CNY' }, changes: { added: ['L2'], removed: [], quantities: [] }, priceDifference: 100, changedAt: T,
        },
      },
      { type: 'OrderChangeRefused', data: { orderId: ORDER_ID, approvalId: 'A', changeRequestId: 'A', reason: 'packed', stage: 'packed', shipmentId: 'S', refusedAt: T } },
      { type: 'OrderPaymentDue', data: { orderId: ORDER_ID, approvalId: 'A', changeRequestId: 'A', amount: 100, priceDifference: 100, currency: 'CNY', dueAt: T } },
      { type: 'OrderPartialRefundRequested', data: { orderId: ORDER_ID, approvalId: 'A', changeRequestId: 'A', amount: 100, priceDifference: -100, currency: 'CNY', reason: 'lowered', requestedAt: T } },
      { type: 'OrderPartialRefunded', data: { orderId: ORDER_ID, changeRequestId: 'A', amount: 100, refundedAt: T } },
      { type: 'OrderPiiRevealed', data: { orderId: ORDER_ID, fields: ['customer.phone'], reason: 'customer called', revealedAt: T } },
    ];
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(ORDER_EVENT_TYPES));
    for (const e of all) {
      const route = routeRecorded({ streamId: `order-${ORDER_ID}`, type: e.type, data: e.data });
      expect(route, e.type).toMatchObject({ topic: Topics.orderEvents, key: ORDER_ID, type: e.type, data: { orderId: ORDER_ID } });
      expect(JSON.parse(JSON.stringify(route?.data))).toEqual(route?.data);
    }
  });

  it('routes outbox entries to the command topic of their context and ignores other streams', () => {
    expect(routeRecorded({ streamId: 'process-A', type: 'ReserveStock', data: { orderId: 'A', channel: 'jd', lines: [] } })).toMatchObject({ topic: Topics.inventoryCommands, key: 'A' });
    expect(routeRecorded({ streamId: 'process-A', type: 'RequestApproval', data: { orderId: 'A' } })).toMatchObject({ topic: Topics.approvalCommands });
    expect(routeRecorded({ streamId: 'process-A', type: 'StopFulfillment', data: { orderId: 'A' } })).toMatchObject({ topic: Topics.fulfillmentCommands });
    expect(routeRecorded({ streamId: 'process-A', type: 'Unknown', data: { orderId: 'A' } })).toBeNull();
    expect(routeRecorded({ streamId: 'stock-X', type: 'OrderPaid', data: { orderId: 'A' } })).toBeNull();
  });
});

describe('in-process reactions: the order\'s own consequences commit with the command', () => {
  /** Counts the store's commits (each one transaction) and keeps what each appended. */
  function counting(s: ReturnType<typeof setup>) {
    const commits: OrderChange[] = [];
    const commit = s.store.commit.bind(s.store);
    s.store.commit = async (change: OrderChange) => {
      commits.push(change);
      return commit(change);
    };
    return commits;
  }
  const allocations = [{ lineId: 'L1', sku: 'TEA-LJ-250', warehouseId: 'W', quantity: 2 }];

  it('ConfirmPayment appends OrderPaid and the ReserveStock command in one commit; the same command again adds nothing', async () => {
    const s = setup();
    const o = await placed(s);
    const commits = counting(s);
    await s.changes.execute(pay(o.orderId, 'pay-1'));
    await s.changes.execute(pay(o.orderId, 'pay-1'));
    expect(commits).toHaveLength(1);
    expect(commits[0].events.map((e) => e.type)).toEqual(['OrderPaid']);
    expect(commits[0].outbox?.map((e) => e.type)).toEqual(['ReserveStock']);
    const outbox = await s.store.events.readStream(`process-${o.orderId}`);
    expect(outbox.map((e) => e.type)).toEqual(['ReserveStock']);
    // Caused by the stored OrderPaid (its event id), as when the process manager read it from Kafka.
    expect(outbox[0].metadata).toMatchObject({ causationId: commits[0].events[0].eventId });
  });

  it('StockReserved from inventory: the stage change, the rule audit, OrderReadyToShip and StartFulfillment in one commit', async () => {
    const s = setup();
    const runner = new ProcessManagerRunner(s.store, s.changes, rules, () => NOW);
    const o = await placed(s);
    await s.changes.execute(pay(o.orderId));
    const commits = counting(s);
    const reserved = { context: 'inventory' as const, type: 'StockReserved' as const, data: { orderId: o.orderId, reservationId: 'R1', allocations } };
    await runner.handle(reserved, { eventId: 'inv-1', correlationId: 'c' });
    expect(commits).toHaveLength(1);
    expect(commits[0].events.map((e) => e.type)).toEqual(['OrderStockReserved', 'OrderRuleDecided', 'OrderReadyToShip']);
    expect(commits[0].outbox?.map((e) => e.type)).toEqual(['StartFulfillment']);
    // The consequence's command id derives from its trigger event, as before.
    expect(commits[0].events[1].metadata.causationId).toBe(`${commits[0].events[0].eventId}/0`);
    expect((await s.store.load(o.orderId)).state.status).toBe('ready_to_ship');
    // A second, different StockReserved for the now-reserved order: the policy sees nothing to do.
    expect((await runner.handle(reserved, { eventId: 'inv-2', correlationId: 'c' })).steps).toEqual([]);
    expect(commits).toHaveLength(1);
  });

  it('a cash-on-delivery order is placed with its ReserveStock in the same commit', async () => {
    const s = setup();
    const commits = counting(s);
    const o = await placed(s, { paymentMethod: 'cod' });
    expect(commits).toHaveLength(1);
    expect(commits[0].outbox?.map((e) => e.type)).toEqual(['ReserveStock']);
    expect(o.status).toBe('placed');
  });

  it('a cancel after payment commits OrderCancelled with its compensation (ReleaseStock)', async () => {
    const s = setup();
    const o = await placed(s);
    await s.changes.execute(pay(o.orderId));
    const commits = counting(s);
    await s.changes.execute({ type: 'Cancel', data: { orderId: o.orderId, reason: '顾客取消' }, metadata: commandMetadata({ now: NOW }) });
    expect(commits).toHaveLength(1);
    expect(commits[0].events.map((e) => e.type)).toEqual(['OrderCancelled']);
    expect(commits[0].outbox?.map((e) => e.type)).toEqual(['ReleaseStock']);
  });

  it('a command the rules refuse writes nothing, consequences included', async () => {
    const s = setup();
    const o = await placed(s);
    const commits = counting(s);
    const underpaid: Exclude<OrderCommand, { type: 'PlaceOrder' }> = { type: 'ConfirmPayment', data: { orderId: o.orderId, amount: 1, currency: 'CNY' }, metadata: commandMetadata({ now: NOW }) };
    await expect(s.changes.execute(underpaid)).rejects.toMatchObject({ code: expect.any(String) });
    expect(commits).toHaveLength(0);
    expect(await s.store.events.readStream(`process-${o.orderId}`)).toEqual([]);
  });

  it('re-decides a step that lost a race to a concurrent write instead of dropping it (the order does not stall)', async () => {
    const s = setup();
    const runner = new ProcessManagerRunner(s.store, s.changes, rules, () => NOW);
    const o = await placed(s);
    await s.changes.execute(pay(o.orderId));
    // While the runner evaluates the rules, customer service puts the order on hold and releases it.
    let raced = false;
    const commit = s.store.commit.bind(s.store);
    s.store.commit = async (change: OrderChange) => {
      if (!raced) {
        raced = true;
        await s.changes.execute({ type: 'PlaceHold', data: { orderId: o.orderId, reason: '核实地址' }, metadata: commandMetadata({ now: NOW }) });
        await s.changes.execute({ type: 'ReleaseHold', data: { orderId: o.orderId, reason: '地址已确认' }, metadata: commandMetadata({ now: NOW }) });
      }
      return commit(change);
    };
    const out = await runner.handle({ context: 'inventory', type: 'StockReserved', data: { orderId: o.orderId, reservationId: 'R1', allocations } }, { eventId: 'inv-1', correlationId: 'c' });
    expect(raced).toBe(true);
    expect(out.skipped).toEqual([]);
    expect((await s.store.load(o.orderId)).state.status).toBe('ready_to_ship');
    // The hold's release at `paid` asked inventory again (resume), as the Kafka round trip did.
    expect((await s.store.events.readStream(`process-${o.orderId}`)).map((e) => e.type)).toEqual(['ReserveStock', 'ReserveStock', 'StartFulfillment']);
  });

  it('the process manager consumes only facts from other services, and only the types it reacts to', () => {
    expect(reactsTo(Topics.orderEvents, 'OrderPaid')).toBe(false);
    expect(reactsTo(Topics.inventoryEvents, 'StockReserved')).toBe(true);
    expect(reactsTo(Topics.inventoryEvents, 'StockLevelChanged')).toBe(false);
    expect(reactsTo(Topics.approvalEvents, 'ApprovalStepApproved')).toBe(false);
    expect(reactsTo(Topics.fulfillmentEvents, 'ReturnReceived')).toBe(true);
  });
});

describe('ReservationTimeoutJob', () => {
  it('flags paid orders waiting longer than the timeout, once', async () => {
    const s = setup();
    const o = await placed(s);
    await s.changes.execute(pay(o.orderId));
    const job = new ReservationTimeoutJob(s.store, s.changes, 60_000);
    expect(await job.runOnce('2025-11-25T08:00:59.000Z')).toEqual([]);
    expect(await job.runOnce('2025-11-25T08:01:00.000Z')).toEqual([o.orderId]);
    expect(await job.runOnce('2025-11-25T08:05:00.000Z')).toEqual([]);
    expect((await s.store.load(o.orderId)).state).toMatchObject({ exception: { code: 'RESERVATION_TIMEOUT' } });
  });
});

describe('idempotency', () => {
  it('the request hash ignores key order', () => {
    expect(requestHash({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(requestHash({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
  });

  it('runs once per key, replays the response, refuses another request on the same key', async () => {
    const store = new InMemoryIdempotencyStore();
    let runs = 0;
    const exec = async () => ({ status: 201, body: { n: ++runs } });
    const results = await Promise.all([1, 2, 3].map(() => store.once('s', 'k', 'h1', exec)));
    expect(runs).toBe(1);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true, true]);
    await expect(store.once('s', 'k', 'h2', exec)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', kind: 'invalid' });
  });
});
