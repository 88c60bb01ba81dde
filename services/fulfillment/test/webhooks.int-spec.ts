import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, runConsumer, type ConsumerHandle } from '@flowline/messaging';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { shipmentIdOf, type FulfillmentCommand } from '../src/domain/order-fulfillment.decider';
import { approvalEventsHandler } from '../src/api/messaging/approval-events.consumer';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';
import { WebhookDispatcher } from '../src/infra/webhooks/webhook-dispatcher';
import { newWebhookSecret, writeParcelsAndWebhooks } from '../src/infra/webhooks/webhook-outbox';

/*
 * Outbound webhooks on PostgreSQL with two real HTTP receivers: A answers 500 to its first five
 * requests, then 200; B accepts connections and never answers (a hung subscriber, 60 s timeout).
 * A gets every event once, per order in the order of the order's events, each signed per
 * Standard Webhooks; A is done while B has not finished a single attempt.
 */

const ulid = monotonicFactory();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let handler: FulfillmentHandler;
let dispatcher: WebhookDispatcher;
let a: Server;
let b: Server;
const hung: ServerResponse[] = [];
const accepted: { id: string; type: string; orderId: string; eventId: string; headers: Record<string, string>; body: string }[] = [];
let aRequests = 0;
let stop = false;
let ticking: Promise<void> | undefined;
const prefix = testTopicPrefix();
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'fulfillment-webhooks-test' });
let publisher: EventPublisher | undefined;
let approvals: ConsumerHandle | undefined;
let c: Server | undefined;
const approved: { headers: Record<string, string>; body: string }[] = [];

function ensureTicking(): void {
  ticking ??= (async () => {
    while (!stop) {
      await dispatcher.tick();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
}

async function listen(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`;

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_webhooks');
  pool = new Pool({ connectionString: db.url, max: 8 });
  await migrateFulfillment(pool);
  store = await PostgresEventStore.create({ pool });
  handler = new FulfillmentHandler(pool, store, () => ulid(), (client, orderId, rows, appended) => writeParcelsAndWebhooks(client, orderId, rows, appended, () => ulid()));
  dispatcher = new WebhookDispatcher({ pool, retry: { baseMs: 100, maxMs: 400, horizonMs: 24 * 3_600_000 }, timeoutMs: 60_000 });
  a = await listen((req, res, body) => {
    aRequests++;
    if (aRequests <= 5) return void res.writeHead(500).end('not yet');
    const p = JSON.parse(body) as { type: string; data: { orderId: string; eventId: string } };
    accepted.push({ id: String(req.headers['webhook-id']), type: p.type, orderId: p.data.orderId, eventId: p.data.eventId, headers: req.headers as Record<string, string>, body });
    res.writeHead(204).end();
  });
  b = await listen((_req, res) => void hung.push(res));
}, 60_000);

afterAll(async () => {
  await approvals?.stop();
  await publisher?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin.disconnect();
  if (c) await new Promise((r) => c?.close(r));
  stop = true;
  await ticking;
  // Close B first: its lane's next requests are refused at once instead of hanging again.
  const bClosed = new Promise((r) => b?.close(r));
  b?.closeAllConnections();
  for (const res of hung) res.destroy();
  await dispatcher?.drain();
  await bClosed;
  await new Promise((r) => a?.close(r));
  await store?.close();
  await pool?.end();
  await db?.drop();
}, 60_000);

const meta = () => {
  const id = ulid();
  return { commandId: id, correlationId: id, causationId: null };
};
const T = '2026-01-05T08:00:00.000Z';

async function subscribe(url: string): Promise<string> {
  const secret = newWebhookSecret();
  await pool.query('INSERT INTO webhook_subscriptions (id, url, event_types, secret) VALUES ($1, $2, $3, $4)', [
    `whsub_${ulid()}`,
    url,
    ['order.ready_to_ship', 'shipment.packed', 'shipment.shipped', 'shipment.delivered'],
    secret,
  ]);
  return secret;
}

async function journey(orderId: string): Promise<void> {
  const s = shipmentIdOf(orderId, 0);
  const steps: FulfillmentCommand[] = [
    { type: 'StartFulfillment', data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA', quantity: 1, warehouseId: 'WH-1' }], priority: 'normal', requiresQc: false }, at: T },
    { type: 'ScanItem', shipmentId: s, sku: 'TEA', quantity: 1, at: T },
    { type: 'PackShipment', shipmentId: s, waybillNo: `WB-${orderId}`, carrier: 'SIM', at: T },
    { type: 'ShipShipment', shipmentId: s, at: T },
    { type: 'RecordCarrierUpdate', shipmentId: s, state: 'delivered', description: '已签收', at: T },
  ];
  for (const c of steps) await handler.execute(orderId, c, meta());
}

describe('outbound webhooks', () => {
  it('a receiver failing 5 times then succeeding gets each event once, in order, signed; a hung receiver does not slow it', async () => {
    const secretA = await subscribe(urlOf(a));
    await subscribe(urlOf(b));
    const orders = ['wh-o1', 'wh-o2', 'wh-o3'];
    for (const o of orders) await journey(o);
    ensureTicking();
    const expected = orders.length * 4;
    const deadline = Date.now() + 60_000;
    while (accepted.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    expect(accepted).toHaveLength(expected);
    expect(new Set(accepted.map((x) => x.id)).size).toBe(expected);
    for (const o of orders) {
      expect(accepted.filter((x) => x.orderId === o).map((x) => x.type)).toEqual(['order.ready_to_ship', 'shipment.packed', 'shipment.shipped', 'shipment.delivered']);
    }
    const wh = new Webhook(secretA);
    for (const x of accepted) {
      expect(() => wh.verify(x.body, { 'webhook-id': x.headers['webhook-id'], 'webhook-timestamp': x.headers['webhook-timestamp'], 'webhook-signature': x.headers['webhook-signature'] })).not.toThrow();
      expect(() => wh.verify(x.body.replace('"type"', '"typ"'), { 'webhook-id': x.headers['webhook-id'], 'webhook-timestamp': x.headers['webhook-timestamp'], 'webhook-signature': x.headers['webhook-signature'] })).toThrow();
    }
    expect(aRequests).toBe(expected + 5);
    // B hung on its first request: it has not finished one attempt, so it cannot have held A back.
    const bAttempts = await pool.query("SELECT count(*)::int AS n FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.url = $1", [urlOf(b)]);
    expect(bAttempts.rows[0].n).toBe(0);
    expect(hung.length).toBeGreaterThanOrEqual(1);
    // The receiver saw the last request before the dispatcher recorded its answer: wait for the record.
    const readLog = () => pool.query<{ status: string; attempts: number }>('SELECT d.status, d.attempts FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.url = $1', [urlOf(a)]);
    let log = await readLog();
    for (const until = Date.now() + 30_000; !log.rows.every((r) => r.status === 'delivered') && Date.now() < until; log = await readLog()) await new Promise((r) => setTimeout(r, 100));
    expect(log.rows.every((r) => r.status === 'delivered')).toBe(true);
    expect(log.rows.reduce((n, r) => n + r.attempts, 0)).toBe(expected + 5);
  }, 90_000);

  it('an approved order from approval.events.v1 (real Kafka) is pushed once to order.approved subscribers, signed; an approved change is not', async () => {
    c = await listen((req, res, body) => {
      approved.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
    const secret = newWebhookSecret();
    await pool.query('INSERT INTO webhook_subscriptions (id, url, event_types, secret) VALUES ($1, $2, $3, $4)', [`whsub_${ulid()}`, urlOf(c), ['order.approved'], secret]);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [Topics.approvalEvents], { partitions: 1, prefix });
    await admin.disconnect();
    approvals = await runConsumer({ kafka, pool, groupId: `${prefix}fulfillment.approvals`, topics: [Topics.approvalEvents], topicPrefix: prefix, handler: approvalEventsHandler(() => ulid()) });
    publisher = new EventPublisher({ kafka, topicPrefix: prefix });
    await publisher.connect();
    const envelope = (n: number, data: Record<string, unknown>): EventEnvelope => ({
      eventId: `apv-evt-${n}`,
      type: 'ApprovalGranted',
      schemaVersion: 1,
      streamId: `approval-${String(data.approvalId)}`,
      streamPosition: n,
      occurredAt: T,
      correlationId: 'corr-apv',
      causationId: null,
      data,
    });
    const granted = envelope(1, { approvalId: 'APV-1', orderId: 'wh-custom-1', chain: 'custom-order', kind: 'order', chainVersion: '3', grantedAt: T });
    const change = envelope(2, { approvalId: 'APV-2', orderId: 'wh-custom-1', chain: 'change-request', kind: 'change', changeRequestId: 'CR-1' });
    // The granted event twice (a redelivery): the inbox and the (subscription, event) key push it once.
    await publisher.publish([granted, change, granted].map((e) => ({ topic: Topics.approvalEvents, key: 'wh-custom-1', envelope: e })));
    ensureTicking();
    const deadline = Date.now() + 60_000;
    while (approved.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000));

    expect(approved).toHaveLength(1);
    const [x] = approved;
    const body = JSON.parse(x.body) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(body).toEqual({ type: 'order.approved', timestamp: T, data: { eventId: 'apv-evt-1', orderId: 'wh-custom-1', approvalId: 'APV-1', chain: 'custom-order', chainVersion: '3', grantedAt: T } });
    expect(x.headers['webhook-id']).toBeTruthy();
    expect(() => new Webhook(secret).verify(x.body, { 'webhook-id': x.headers['webhook-id'], 'webhook-timestamp': x.headers['webhook-timestamp'], 'webhook-signature': x.headers['webhook-signature'] })).not.toThrow();
    const readLog = () => pool.query("SELECT event_type, status FROM webhook_deliveries WHERE order_id = 'wh-custom-1'");
    let log = await readLog();
    for (const until = Date.now() + 30_000; log.rows.some((r) => r.status !== 'delivered') && Date.now() < until; log = await readLog()) await new Promise((r) => setTimeout(r, 100));
    expect(log.rows).toEqual([{ event_type: 'order.approved', status: 'delivered' }]);
  }, 90_000);

  it('a receiver answering with a redirect is not followed: the attempt fails with the reason, the redirect target gets nothing', async () => {
    let targetHits = 0;
    const target = await listen((_req, res) => {
      targetHits += 1;
      res.writeHead(204).end();
    });
    const redirector = await listen((_req, res) => res.writeHead(302, { location: urlOf(target) }).end());
    try {
      await subscribe(urlOf(redirector));
      await journey('wh-redirect-1');
      ensureTicking();
      const readAttempts = () =>
        pool.query<{ error: string | null }>('SELECT t.error FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.url = $1', [urlOf(redirector)]);
      let attempts = await readAttempts();
      for (const until = Date.now() + 30_000; attempts.rows.length === 0 && Date.now() < until; attempts = await readAttempts()) await new Promise((r) => setTimeout(r, 100));
      expect(attempts.rows.length).toBeGreaterThan(0);
      expect(attempts.rows[0]?.error).toBe('HTTP 302: redirects are not followed');
      expect(targetHits).toBe(0);
    } finally {
      await new Promise((r) => redirector.close(r));
      await new Promise((r) => target.close(r));
    }
  }, 60_000);
});
