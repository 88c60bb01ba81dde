import { PostgresEventStore } from '@flowline/eventstore';
import { anOrderSubmission, createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { PlaceOrderHandler } from '../src/application/place-order.handler';
import type { OrderCommand } from '../src/domain/order.commands';
import { isExisting } from '../src/domain/order.state';
import { AfterSalesArchiveRunner } from '../src/infra/after-sales-archive.runner';
import { orderIntakeConfigFromEnv } from '../src/infra/order-intake.config';
import { migrateOrderIntake } from '../src/infra/order-intake-schema';
import { PgOrderStore } from '../src/infra/pg-order-store';
import { defaultRules } from './support/order.fixtures';

// The after-sales archiver against the real PostgreSQL read table and event store. The clock is
// injected: the test moves it forward by days instead of waiting for them.

const DAY = 24 * 60 * 60 * 1000;
const DELIVERED_AT = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();

describe('after-sales archive runner (real PostgreSQL, injected clock)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let eventStore: PostgresEventStore;
  let store: PgOrderStore;
  let changes: ChangeOrderHandler;
  let places: PlaceOrderHandler;
  let nowMs = DELIVERED_AT;
  const clock = () => new Date(nowMs);
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_archive');
    pool = new Pool({ connectionString: db.url, max: 8 });
    await migrateOrderIntake(pool);
    eventStore = await PostgresEventStore.create({ pool, schema: 'eventstore' });
    store = new PgOrderStore(pool, eventStore);
    changes = new ChangeOrderHandler(store, defaultRules);
    places = new PlaceOrderHandler(store, defaultRules);
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

  /** An order taken through the whole journey and delivered at `deliveredAt`. */
  async function deliveredOrder(deliveredAt: number): Promise<string> {
    seq += 1;
    const orderId = `01KARCHIVE${String(Date.now()).slice(-8)}${String(seq).padStart(8, '0')}`;
    const t0 = deliveredAt - 3 * DAY;
    const placed = await places.execute({
      type: 'PlaceOrder',
      data: { orderId, order: anOrderSubmission({ channelOrderId: `TM-ARCH-${orderId}`, placedAt: at(t0) }) },
      metadata: { commandId: `place-${orderId}`, correlationId: orderId, causationId: null, now: at(t0) },
    });
    if (!isExisting(placed.state)) throw new Error('order not placed');
    const order = placed.state.order;
    await run(orderId, 'ConfirmPayment', { amount: order.totals.grandTotal, currency: 'CNY' }, t0 + 60_000);
    await run(orderId, 'RecordStockReserved', { reservationId: 'RES-1', allocations: order.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-HZ-01', quantity: l.quantity })) }, t0 + 120_000);
    // The rule audit releases it to fulfillment in the reservation's own commit (in-process reactions).
    await run(orderId, 'RecordPacked', { shipmentId: `SHP-${orderId}` }, t0 + DAY);
    await run(orderId, 'RecordShipped', { shipmentId: `SHP-${orderId}`, carrier: 'SF', trackingNumber: `SF${seq}` }, t0 + DAY + 60_000);
    await run(orderId, 'RecordDelivered', { deliveredAt: at(deliveredAt) }, deliveredAt);
    return orderId;
  }

  async function stageOf(orderId: string): Promise<string> {
    const r = await pool.query<{ stage: string }>('SELECT stage FROM order_summaries WHERE order_id = $1', [orderId]);
    return r.rows[0].stage;
  }

  const archivedEvents = async (orderId: string) => (await store.load(orderId)).events.filter((e) => e.type === 'OrderArchived');

  it('archives delivered orders once the window (15 days) has passed, not before, and never a held one or one with a refund open', async () => {
    const due = await deliveredOrder(DELIVERED_AT);
    const inWindow = await deliveredOrder(DELIVERED_AT + 5 * DAY);
    const held = await deliveredOrder(DELIVERED_AT);
    await run(held, 'PlaceHold', { reason: '买家投诉，待处理' }, DELIVERED_AT + DAY);
    const refundOpen = await deliveredOrder(DELIVERED_AT);
    await run(refundOpen, 'RequestRefund', { amount: 1000, reason: '少发一件' }, DELIVERED_AT + 2 * DAY);
    const runner = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 0, clock });

    nowMs = DELIVERED_AT + 14 * DAY;
    expect(await runner.runOnce()).toEqual([]);
    nowMs = DELIVERED_AT + 15 * DAY - 1;
    expect(await runner.runOnce()).toEqual([]);

    nowMs = DELIVERED_AT + 15 * DAY + 3_600_000;
    const archived = await runner.runOnce();
    expect(archived).toContain(due);
    expect(archived).not.toContain(inWindow);
    expect(archived).not.toContain(held);
    expect(archived).not.toContain(refundOpen);
    expect(await stageOf(due)).toBe('archived');
    expect(await stageOf(inWindow)).toBe('delivered');
    expect(await stageOf(held)).toBe('delivered');
    expect(await stageOf(refundOpen)).toBe('delivered');
    const [event] = await archivedEvents(due);
    expect(event.data).toEqual({ orderId: due, archivedAt: at(nowMs) });
    expect(event.metadata.actor).toMatchObject({ kind: 'service', id: 'order-intake.after-sales-archiver' });

    // Five days later the second order's window has passed too.
    nowMs = DELIVERED_AT + 20 * DAY + 3_600_000;
    expect(await runner.runOnce()).toContain(inWindow);
    expect(await stageOf(inWindow)).toBe('archived');
    expect(await stageOf(held)).toBe('delivered');
  });

  it('an after-sales hold pauses archiving; released, the order gets a whole window from the release', async () => {
    const orderId = await deliveredOrder(DELIVERED_AT);
    await run(orderId, 'PlaceHold', { reason: '质量问题核实' }, DELIVERED_AT + 10 * DAY);
    await run(orderId, 'ReleaseHold', { reason: '已处理' }, DELIVERED_AT + 12 * DAY);
    const runner = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 0, clock });
    nowMs = DELIVERED_AT + 20 * DAY;
    expect(await runner.runOnce()).not.toContain(orderId);
    nowMs = DELIVERED_AT + 27 * DAY;
    expect(await runner.runOnce()).toContain(orderId);
    expect(await stageOf(orderId)).toBe('archived');
  });

  it('the window is configurable: ORDER_AFTER_SALES_DAYS (default 15)', async () => {
    expect(orderIntakeConfigFromEnv({}).afterSalesDays).toBe(15);
    const windowDays = orderIntakeConfigFromEnv({ ORDER_AFTER_SALES_DAYS: '7' }).afterSalesDays;
    expect(windowDays).toBe(7);
    expect(() => orderIntakeConfigFromEnv({ ORDER_AFTER_SALES_DAYS: 'two weeks' })).toThrow(/ORDER_AFTER_SALES_DAYS/);
    const deliveredAt = DELIVERED_AT + 100 * DAY;
    const orderId = await deliveredOrder(deliveredAt);
    const runner = new AfterSalesArchiveRunner(store, changes, { windowDays, scanIntervalMs: 0, clock });
    nowMs = deliveredAt + 6 * DAY;
    expect(await runner.runOnce()).not.toContain(orderId);
    nowMs = deliveredAt + 7 * DAY;
    expect(await runner.runOnce()).toContain(orderId);
  });

  it('pages through the read table: many due orders in small pages, an unarchivable one at the head does not starve the rest', async () => {
    const deliveredAt = DELIVERED_AT + 200 * DAY;
    const blocked = await deliveredOrder(deliveredAt - 1000);
    await run(blocked, 'RequestRefund', { amount: 500, reason: '退差价' }, deliveredAt);
    const due: string[] = [];
    for (let i = 0; i < 5; i++) due.push(await deliveredOrder(deliveredAt + i * 1000));
    const runner = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 0, clock, batchSize: 2 });
    nowMs = deliveredAt + 16 * DAY;
    const archived = await runner.runOnce();
    expect(archived.filter((id) => due.includes(id)).sort()).toEqual([...due].sort());
    expect(archived).not.toContain(blocked);
    for (const id of due) expect(await stageOf(id)).toBe('archived');
  });

  it('two replicas scanning at once archive an order once', async () => {
    const deliveredAt = DELIVERED_AT + 300 * DAY;
    const orderId = await deliveredOrder(deliveredAt);
    nowMs = deliveredAt + 16 * DAY;
    const a = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 0, clock });
    const b = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 0, clock });
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect([...ra, ...rb].filter((id) => id === orderId).length).toBeGreaterThanOrEqual(1);
    expect(await archivedEvents(orderId)).toHaveLength(1);
    expect(await a.runOnce()).not.toContain(orderId);
    expect(await archivedEvents(orderId)).toHaveLength(1);
  });

  it('the timer runs scans on its interval with the injected clock, and stops', async () => {
    const deliveredAt = DELIVERED_AT + 400 * DAY;
    const orderId = await deliveredOrder(deliveredAt);
    nowMs = deliveredAt + 15 * DAY;
    const runner = new AfterSalesArchiveRunner(store, changes, { windowDays: 15, scanIntervalMs: 50, clock }).start();
    try {
      const until = Date.now() + 10_000;
      while ((await stageOf(orderId)) !== 'archived' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(await stageOf(orderId)).toBe('archived');
    } finally {
      await runner.stop();
    }
    const later = await deliveredOrder(deliveredAt);
    await new Promise((r) => setTimeout(r, 200));
    expect(await stageOf(later)).toBe('delivered');
  });
});
