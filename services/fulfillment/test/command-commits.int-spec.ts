import { Topics, type EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, runConsumer, type ConsumerHandle } from '@flowline/messaging';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, countedPool } from '@flowline/testing';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULFILLMENT_COMMAND_TYPES, fulfillmentCommandHandler } from '../src/api/messaging/fulfillment-commands.consumer';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { MergeHandler } from '../src/application/merge.handler';
import { chooseCarrier } from '../src/domain/carrier-rules';
import { parseMergeRules } from '../src/domain/merge-parcel.decider';
import { loadCarrierRules } from '../src/infra/carrier-rules.loader';
import { COMMAND_BATCHING } from '../src/infra/fulfillment-runtime';
import { loadSkuWeights } from '../src/infra/fulfillment-rules.loader';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';
import { recordRestocks } from '../src/infra/restock.job';
import { shipmentIdOf, type FulfillmentCommand } from '../src/domain/order-fulfillment.decider';
import { writeParcelsAndWebhooks } from '../src/infra/webhooks/webhook-outbox';

/*
 * What fulfillment costs per placed-and-paid order (issue #10), counted on the real PostgreSQL and
 * Kafka (counts, not times): the StartFulfillment commands of ORDERS orders at about 25 orders/s
 * through the consumer with the service's own batching (COMMAND_BATCHING) and `accept` filter,
 * every transaction and every statement on the pool counted. A webhook subscription to
 * order.ready_to_ship is active (one outbox row per order), a pair of orders shares a merged
 * parcel (合单) and a few orders are stopped again. The bench of 2026-12-05 05:01 measured 2.15
 * commits and 11.09 round trips per order for fulfillment (one transaction per command, two
 * reads of the order's stream, a savepoint append, a webhook SELECT + INSERT each); 193a60e: 5.0
 * statements; the webhook outbox folded into the parcel upsert: 4.0.
 */

const ulid = monotonicFactory();
const ORDERS = 60;
const MERGED = 2;
const STOPPED = 4;
const prefix = testTopicPrefix();
const start = JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures/fulfillment/StartFulfillment.v1.json'), 'utf8')) as EventEnvelope<Record<string, unknown>>;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let events: PostgresEventStore;
let publisher: EventPublisher;
let consumer: ConsumerHandle | undefined;
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'fulfillment-command-commits-test' });
const count = { statements: 0, transactions: 0 };
/** Every statement's SQL, in order (for the per-command checks). */
const statementLog: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_command_commits');
  pool = new Pool({ connectionString: db.url, max: 6 });
  pool.on('error', () => undefined);
  await migrateFulfillment(pool);
  events = await PostgresEventStore.create({ pool });
  await pool.query(`INSERT INTO webhook_subscriptions (id, url, event_types, secret) VALUES ('sub-ready', 'http://127.0.0.1:9/none', '{order.ready_to_ship}', 'whsec_x')`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [Topics.fulfillmentCommands], { partitions: 3, prefix });
  await admin.disconnect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
}, 120_000);

afterAll(async () => {
  await consumer?.stop();
  await publisher?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin.disconnect();
  await events?.close();
  await pool?.end();
  await db?.drop();
});

describe('fulfillment commands: transactions and statements per order (real PostgreSQL and Kafka)', () => {
  it('starts each order in at most 0.5 transactions and 4.8 statements, merged parcels, webhooks and stops included', async () => {
    const counted = countedPool(pool, count);
    const store = await PostgresEventStore.create({ pool: counted });
    const handler = new FulfillmentHandler(counted, store, () => ulid(), async (client, orderId, rows, appended) => {
      await writeParcelsAndWebhooks(client, orderId, rows, appended, () => ulid());
      await recordRestocks(client, orderId, appended);
    });
    const merges = new MergeHandler(store, () => ulid(), parseMergeRules({ version: 'cc', default: { enabled: false, windowMinutes: 30 }, shops: { 'shop-m': { enabled: true, windowMinutes: 30 } } }));
    const carrierRules = loadCarrierRules();
    consumer = await runConsumer({
      kafka,
      groupId: `${prefix}fulfillment.commands`,
      topics: [Topics.fulfillmentCommands],
      topicPrefix: prefix,
      pool: counted,
      ...COMMAND_BATCHING,
      accept: (envelope) => FULFILLMENT_COMMAND_TYPES.has(envelope.type),
      handler: fulfillmentCommandHandler(handler, (input) => chooseCarrier(carrierRules, input), [], { merges, weights: loadSkuWeights() }),
    });
    const before = { ...count };
    const orderIds: string[] = [];
    let published = 0;
    for (let i = 0; i < ORDERS; i++) {
      const orderId = ulid();
      orderIds.push(orderId);
      const merged = i < MERGED ? { shopId: 'shop-m', buyerKey: 'b1', addressKey: 'a1' } : { shopId: 'shop-x', buyerKey: `b-${i}`, addressKey: `a-${i}` };
      const data = { ...start.data, orderId, lines: (start.data.lines as { lineId: string }[]).map((l) => ({ ...l })), channel: 'web', grandTotal: 5000, destination: { province: '浙江省' }, ...merged };
      const messages = [
        { topic: Topics.fulfillmentCommands, key: orderId, envelope: { ...start, eventId: ulid(), streamId: `process-${orderId}`, occurredAt: new Date().toISOString(), data } },
        // A type this consumer does not act on: acknowledged without a transaction.
        { topic: Topics.fulfillmentCommands, key: orderId, envelope: { ...start, eventId: ulid(), type: 'FulfillmentPing', streamId: `process-${orderId}`, data: { orderId } } },
        ...(i >= ORDERS - STOPPED ? [{ topic: Topics.fulfillmentCommands, key: orderId, envelope: { ...start, eventId: ulid(), type: 'StopFulfillment', streamId: `process-${orderId}`, occurredAt: new Date().toISOString(), data: { orderId, reason: '买家取消' } } }] : []),
      ];
      await publisher.publish(messages);
      published += messages.length;
      await new Promise((r) => setTimeout(r, 40));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await pool.query<{ n: number; stopped: number }>(
        `SELECT count(DISTINCT order_id)::int AS n, count(*) FILTER (WHERE status = 'stopped')::int AS stopped FROM shipments WHERE order_id = ANY($1)`,
        [orderIds],
      );
      if (rows[0].n === ORDERS && rows[0].stopped === STOPPED) break;
      if (Date.now() > deadline) throw new Error(`shipments of ${rows[0].n}/${ORDERS} orders, stopped ${rows[0].stopped}/${STOPPED}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const transactions = count.transactions - before.transactions;
    const statements = count.statements - before.statements;
    const perOrder = { transactions: transactions / ORDERS, statements: statements / ORDERS };
    console.log(
      `fulfillment commands: ${published} messages of ${ORDERS} orders -> ${transactions} transactions (${perOrder.transactions.toFixed(2)} per order), ${statements} statements (${perOrder.statements.toFixed(2)} per order); consumer ${JSON.stringify(consumer.stats)}`,
    );

    // Behaviour kept: one parcel per order (the fixture's lines are in one warehouse), the merged pair in one box, the stopped ones stopped.
    const parcels = await pool.query<{ order_id: string; status: string; merge_parcel_id: string | null }>('SELECT order_id, status, merge_parcel_id FROM shipments WHERE order_id = ANY($1)', [orderIds]);
    expect(parcels.rows).toHaveLength(ORDERS);
    const mergedParcels = new Set(parcels.rows.filter((r) => orderIds.indexOf(r.order_id) < MERGED).map((r) => r.merge_parcel_id));
    expect(mergedParcels.size).toBe(1);
    expect([...mergedParcels][0]).toMatch(/^MRG-shop-m-/);
    expect(parcels.rows.filter((r) => r.status === 'stopped').map((r) => r.order_id).sort()).toEqual(orderIds.slice(ORDERS - STOPPED).sort());
    // One order.ready_to_ship delivery per order (the outbox row written with the events).
    const deliveries = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE event_type = 'order.ready_to_ship' AND order_id = ANY($1)`, [orderIds]);
    expect(deliveries.rows[0].n).toBe(ORDERS);
    // Exactly once: one FulfillmentStarted per order; the ignored type took no inbox row.
    const started = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM eventstore.events WHERE event_type = 'FulfillmentStarted' AND stream_id = ANY($1)`, [orderIds.map((id) => `fulfillment-${id}`)]);
    expect(started.rows[0].n).toBe(ORDERS);
    const inbox = await pool.query<{ event_type: string; n: number }>(`SELECT event_type, count(*)::int AS n FROM messaging_inbox GROUP BY 1 ORDER BY 1`);
    expect(inbox.rows).toEqual([
      { event_type: 'StartFulfillment', n: ORDERS },
      { event_type: 'StopFulfillment', n: STOPPED },
    ]);
    expect(perOrder.transactions).toBeLessThanOrEqual(0.5);
    expect(perOrder.statements).toBeLessThanOrEqual(4.8);
    await store.close();
  }, 180_000);

  it('the webhook outbox costs no statement of its own, subscribed or not; a subscription another instance commits is honoured by the next command', async () => {
    // Instance B runs the commands (counted); instance A is another pool on the same database.
    const counted = countedPool(pool, count, statementLog);
    const store = await PostgresEventStore.create({ pool: counted });
    const b = new FulfillmentHandler(counted, store, () => ulid(), (client, orderId, rows, appended) => writeParcelsAndWebhooks(client, orderId, rows, appended, () => ulid()));
    const a = new Pool({ connectionString: db.url, max: 1 });
    try {
      const orderId = ulid();
      const s = shipmentIdOf(orderId, 0);
      const T = new Date().toISOString();
      const meta = () => {
        const id = ulid();
        return { commandId: id, correlationId: id, causationId: null };
      };
      /** The statements one command took on instance B. */
      const run = async (c: FulfillmentCommand) => {
        const from = statementLog.length;
        await b.execute(orderId, c, meta());
        return statementLog.slice(from);
      };
      const deliveries = async (type: string) =>
        (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE order_id = $1 AND event_type = $2', [orderId, type])).rows[0].n;

      // FulfillmentStarted is pushed (sub-ready); ScanItem pushes nothing; ShipmentPacked has no subscriber.
      const started = await run({ type: 'StartFulfillment', data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA', quantity: 1, warehouseId: 'WH-1' }], priority: 'normal', requiresQc: false }, at: T });
      const scanned = await run({ type: 'ScanItem', shipmentId: s, sku: 'TEA', quantity: 1, at: T });
      const packed = await run({ type: 'PackShipment', shipmentId: s, waybillNo: `WB-${orderId}`, carrier: 'SIM', at: T });
      expect(await deliveries('order.ready_to_ship')).toBe(1);
      expect(await deliveries('shipment.packed')).toBe(0);
      // BEGIN, the stream read, the append, parcel rows (+ deliveries) in one statement, COMMIT: the same for each.
      expect([started.length, scanned.length, packed.length]).toEqual([5, 5, 5]);
      for (const sqls of [started, scanned, packed]) expect(sqls.filter((q) => /webhook_deliveries/.test(q)).length).toBeLessThanOrEqual(1);
      expect(started.filter((q) => /^WITH parcels AS \(INSERT INTO shipments/.test(q))).toHaveLength(1);

      // Instance A commits a subscription to shipment.shipped; B's very next command honours it (nothing cached).
      await a.query(`INSERT INTO webhook_subscriptions (id, url, event_types, secret) VALUES ('sub-shipped', 'http://127.0.0.1:9/none', '{shipment.shipped}', 'whsec_y')`);
      const shipped = await run({ type: 'ShipShipment', shipmentId: s, at: T });
      expect(shipped).toHaveLength(5);
      expect(await deliveries('shipment.shipped')).toBe(1);
    } finally {
      await a.end();
      await store.close();
    }
  }, 60_000);
});
