import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PostgresEventStore } from '@flowline/eventstore';
import { anOrderSubmission, createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { PlaceOrderHandler } from '../src/application/place-order.handler';
import { PresaleDeadlineJob } from '../src/application/presale-deadline.job';
import { fixedRuleSet } from '../src/application/rule-set.source';
import type { OrderCommand } from '../src/domain/order.commands';
import { isExisting } from '../src/domain/order.state';
import { parseRuleSet } from '../src/domain/rules/rule-set.parser';
import { migrateOrderIntake } from '../src/infra/order-intake-schema';
import { PgOrderStore } from '../src/infra/pg-order-store';

// The presale (预售) timer against the real PostgreSQL read table and event store; the clock is passed in.
// Unpaid balance after balanceDueBy -> cancelled (the process manager then releases the stock);
// balance paid -> released to fulfillment at the ship date, not before.

const HOUR = 60 * 60 * 1000;
const T0 = Date.parse('2026-10-21T12:00:00.000Z');
const DUE_BY = T0 + 48 * HOUR;
const SHIP_FROM = T0 + 72 * HOUR;
const at = (ms: number) => new Date(ms).toISOString();
const rules = fixedRuleSet(parseRuleSet(readFileSync(resolve(__dirname, '../rules/default.rules.yaml'), 'utf8')));

describe('presale timer (real PostgreSQL, clock passed in)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let eventStore: PostgresEventStore;
  let store: PgOrderStore;
  let changes: ChangeOrderHandler;
  let places: PlaceOrderHandler;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_presale');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await migrateOrderIntake(pool);
    eventStore = await PostgresEventStore.create({ pool, schema: 'eventstore' });
    store = new PgOrderStore(pool, eventStore);
    changes = new ChangeOrderHandler(store, rules);
    places = new PlaceOrderHandler(store, rules);
  });

  afterAll(async () => {
    await eventStore?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await db?.drop();
  });

  type Change = Exclude<OrderCommand, { type: 'PlaceOrder' }>;
  async function run(orderId: string, type: Change['type'], data: object, now: number) {
    seq += 1;
    const command = { type, data: { orderId, ...data }, metadata: { commandId: `t-${orderId}-${seq}`, correlationId: orderId, causationId: null, now: at(now) } } as unknown as Change;
    return changes.execute(command);
  }

  /** A presale order with its deposit paid and its stock reserved; `balance` pays the balance too. */
  async function presaleOrder(balance: boolean): Promise<string> {
    seq += 1;
    const orderId = `01KPRESALE${String(Date.now()).slice(-8)}${String(seq).padStart(8, '0')}`;
    const submission = { ...anOrderSubmission({ channelOrderId: `TB-PRE-${orderId}`, placedAt: at(T0) }), presale: { depositAmount: 5000, balanceDueBy: at(DUE_BY), shipNotBefore: at(SHIP_FROM) } };
    const placed = await places.execute({ type: 'PlaceOrder', data: { orderId, order: submission }, metadata: { commandId: `place-${orderId}`, correlationId: orderId, causationId: null, now: at(T0) } });
    if (!isExisting(placed.state)) throw new Error('not placed');
    const order = placed.state.order;
    await run(orderId, 'ConfirmPayment', { amount: 5000, currency: 'CNY' }, T0 + 60_000);
    await run(orderId, 'RecordStockReserved', { reservationId: 'RES-1', allocations: order.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-HZ-01', quantity: l.quantity })) }, T0 + 120_000);
    if (balance) await run(orderId, 'ConfirmPayment', { amount: order.totals.grandTotal - 5000, currency: 'CNY' }, T0 + 24 * HOUR);
    return orderId;
  }

  const summary = async (orderId: string) =>
    (await pool.query<{ stage: string; presale_next_at: Date | null }>('SELECT stage, presale_next_at FROM order_summaries WHERE order_id = $1', [orderId])).rows[0];

  it('cancels an unpaid balance after its deadline (once, across two timers), releases a settled one at its ship date', async () => {
    const unpaid = await presaleOrder(false);
    const settled = await presaleOrder(true);
    expect((await summary(unpaid)).presale_next_at?.toISOString()).toBe(at(DUE_BY));
    expect((await summary(settled)).presale_next_at?.toISOString()).toBe(at(SHIP_FROM));

    const a = new PresaleDeadlineJob(store, changes, rules);
    const b = new PresaleDeadlineJob(store, changes, rules);
    expect(await a.runOnce(at(DUE_BY))).toEqual([]);
    const [first, second] = await Promise.all([a.runOnce(at(DUE_BY + 1000)), b.runOnce(at(DUE_BY + 1000))]);
    // Both may report it (the same command id is answered from the first append); the stream holds one cancel.
    expect(new Set([...first, ...second].map((d) => `${d.orderId}:${d.command}`))).toEqual(new Set([`${unpaid}:Cancel`]));
    expect(await summary(unpaid)).toEqual({ stage: 'cancelled', presale_next_at: null });
    const cancelled = (await store.load(unpaid)).events.filter((e) => e.type === 'OrderCancelled');
    expect(cancelled.map((e) => e.data)).toEqual([expect.objectContaining({ reason: `presale balance unpaid by ${at(DUE_BY)}`, stageAtCancel: 'stock_reserved' })]);
    expect((await summary(settled)).stage).toBe('stock_reserved');

    expect(await a.runOnce(at(SHIP_FROM - 1000))).toEqual([]);
    expect(await a.runOnce(at(SHIP_FROM))).toEqual([{ orderId: settled, command: 'ReleaseToFulfillment' }]);
    expect(await summary(settled)).toEqual({ stage: 'ready_to_ship', presale_next_at: null });
    expect(await a.runOnce(at(SHIP_FROM + HOUR))).toEqual([]);
  });
});
