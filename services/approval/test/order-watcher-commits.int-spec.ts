import { Topics, type EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, runConsumer, type ConsumerHandle } from '@flowline/messaging';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, countedPool } from '@flowline/testing';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalService } from '../src/application/approval.service';
import { OrderSnapshots } from '../src/application/order-snapshots';
import { OrderWatcher } from '../src/application/order-watcher';
import { ApprovalClock } from '../src/infra/approval-clock';
import { WATCHER_BATCHING } from '../src/infra/approval-runtime';
import { migrateApprovalSchema } from '../src/infra/approval-schema';
import { GraphileTimers } from '../src/infra/graphile-timers';

/*
 * What approval's order watcher costs per order that never sees a change request (issue #10),
 * counted on the real PostgreSQL and Kafka (not timed): the events of placed-and-paid orders (as
 * order-intake, inventory and fulfillment publish them) at about 25 orders/s through the watcher
 * with the service's own batching (WATCHER_BATCHING), every transaction (BEGIN ... COMMIT or a
 * lone statement) and every statement on the pool counted. Before #10 each of the ~8 events of
 * such an order was its own transaction (6.6 commits and 16-21 round trips per order in the bench).
 */

const ulid = monotonicFactory();
const ORDERS = 60;
const CANCELLED = 6;
const prefix = testTopicPrefix();
const fixture = (path: string) => JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures', path), 'utf8')) as EventEnvelope<Record<string, unknown>>;
const F = {
  placed: fixture('orders/OrderPlaced.v1.json'),
  paid: fixture('orders/OrderPaid.v1.json'),
  orderReserved: fixture('orders/OrderStockReserved.v1.json'),
  ready: fixture('orders/OrderReadyToShip.v1.json'),
  cancelled: fixture('orders/OrderCancelled.v1.json'),
  stockReserved: fixture('inventory/StockReserved.v1.json'),
  level: fixture('inventory/StockLevelChanged.v1.json'),
};

/** The fixture event for another order (fresh event id). */
const of = (f: EventEnvelope<Record<string, unknown>>, orderId: string, extra: Record<string, unknown> = {}): EventEnvelope => ({ ...f, eventId: ulid(), streamId: `order-${orderId}`, data: { ...f.data, orderId, ...extra } });

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let events: PostgresEventStore;
let publisher: EventPublisher;
let watcher: ConsumerHandle | undefined;
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'approval-watcher-commits-test' });
/** Statements and transactions on the counted pool. */
const count = { statements: 0, transactions: 0 };

beforeAll(async () => {
  db = await createTestDatabase('approval_watcher_commits');
  pool = new Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined);
  await migrateApprovalSchema(pool);
  events = await PostgresEventStore.create({ pool });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [Topics.orderEvents, Topics.fulfillmentEvents, Topics.inventoryEvents], { partitions: 3, prefix });
  await admin.disconnect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
}, 120_000);

afterAll(async () => {
  await watcher?.stop();
  await publisher?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin.disconnect();
  await events?.close();
  await pool?.end();
  await db?.drop();
});

describe('approval order watcher: transactions and statements per order (real PostgreSQL and Kafka)', () => {
  it('keeps the snapshot of orders without a change request at most 0.5 transactions per order, skipping the events it does not keep', async () => {
    const counted = countedPool(pool, count);
    const snapshots = new OrderSnapshots(counted);
    const service = new ApprovalService(events, new GraphileTimers(), () => ulid());
    const clock = new ApprovalClock(counted, false);
    const orderWatcher = new OrderWatcher({ service, snapshots, now: () => clock.now() });
    watcher = await runConsumer({
      kafka,
      groupId: `${prefix}approval.commands.watch`,
      topics: [Topics.orderEvents, Topics.fulfillmentEvents, Topics.inventoryEvents],
      topicPrefix: prefix,
      pool: counted,
      ...WATCHER_BATCHING,
      accept: (envelope) => orderWatcher.accepts(envelope),
      handler: async (envelope, tx) => orderWatcher.apply(envelope, tx.client),
    });
    const before = { ...count };
    const orderIds: string[] = [];
    let published = 0;
    // About 25 orders/s: each order's events as the other services publish them (keyed by order, stock levels by SKU).
    for (let i = 0; i < ORDERS; i++) {
      const orderId = ulid();
      orderIds.push(orderId);
      const messages = [
        { topic: Topics.orderEvents, key: orderId, envelope: of(F.placed, orderId) },
        { topic: Topics.orderEvents, key: orderId, envelope: of(F.paid, orderId) },
        { topic: Topics.inventoryEvents, key: orderId, envelope: { ...of(F.stockReserved, orderId), streamId: `reservation-${orderId}` } },
        { topic: Topics.inventoryEvents, key: 'TEA-LJ-250', envelope: { ...F.level, eventId: ulid() } },
        { topic: Topics.orderEvents, key: orderId, envelope: of(F.orderReserved, orderId) },
        { topic: Topics.orderEvents, key: orderId, envelope: of(F.ready, orderId) },
        ...(i < CANCELLED ? [{ topic: Topics.orderEvents, key: orderId, envelope: of(F.cancelled, orderId) }] : []),
      ];
      await publisher.publish(messages);
      published += messages.length;
      await new Promise((r) => setTimeout(r, 40));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await pool.query<{ n: number; cancelled: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE stage = 'cancelled')::int AS cancelled FROM order_snapshots WHERE order_id = ANY($1)`,
        [orderIds],
      );
      if (rows[0].n === ORDERS && rows[0].cancelled === CANCELLED) break;
      if (Date.now() > deadline) throw new Error(`snapshots: ${rows[0].n}/${ORDERS}, cancelled ${rows[0].cancelled}/${CANCELLED}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const transactions = count.transactions - before.transactions;
    const statements = count.statements - before.statements;
    const perOrder = { transactions: transactions / ORDERS, statements: statements / ORDERS };
    console.log(
      `approval order watcher: ${published} events of ${ORDERS} orders -> ${transactions} transactions (${perOrder.transactions.toFixed(2)} per order), ${statements} statements (${perOrder.statements.toFixed(2)} per order)`,
    );

    // Behaviour kept: the snapshot holds the order as placed; a closing stage is recorded, the changeable ones between are not.
    const { rows } = await pool.query<{ order_id: string; stage: string; lines: unknown[] }>(`SELECT order_id, stage, lines FROM order_snapshots WHERE order_id = ANY($1)`, [orderIds]);
    for (const r of rows) {
      expect(r.stage).toBe(orderIds.indexOf(r.order_id) < CANCELLED ? 'cancelled' : 'placed');
      expect(r.lines.length).toBeGreaterThan(0);
    }
    // Only the events it keeps take an inbox row (OrderPlaced of each order, the cancellations).
    const inbox = await pool.query<{ event_type: string; n: number }>(`SELECT event_type, count(*)::int AS n FROM messaging_inbox GROUP BY 1 ORDER BY 1`);
    expect(inbox.rows).toEqual([
      { event_type: 'OrderCancelled', n: CANCELLED },
      { event_type: 'OrderPlaced', n: ORDERS },
    ]);
    expect(perOrder.transactions).toBeLessThanOrEqual(0.5);
    expect(perOrder.statements).toBeLessThanOrEqual(3);
  }, 180_000);
});
