import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import type { EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { grpcClient, startServiceProcess, unary, type ServiceProcess } from '@flowline/platform';
import { authHeader, createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationIntake } from '../src/application/notification-intake';
import { loadNotificationConfig } from '../src/infra/notification-config';

/*
 * Data scoping by shop (ADR 0018) on notification's read APIs, REST and gRPC, against a running
 * process: cs-jd (shops jd-self-run, jd-flagship) sees the notifications of JD orders only; another
 * shop's order, and an order whose shop notification does not know, answer as an unknown one.
 * The rows are written by the real intake (OrderPlaced, then OrderPaid) on the process's database.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are asserted field by field
type Body = Record<string, any>;
const ulid = monotonicFactory();
const placed = JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures/orders/OrderPlaced.v1.json'), 'utf8')) as EventEnvelope<Record<string, unknown> & { customer: Record<string, unknown> }>;
const suffix = uniqueSuffix();
const JD = `o-jd-${suffix}`;
const TMALL = `o-tmall-${suffix}`;
const DOUYIN = [1, 2, 3, 4].map((i) => `o-douyin-${i}-${suffix}`);
/** An order whose facts were written before notification kept the shop: no shopId in them. */
const LEGACY = `o-legacy-${suffix}`;

let proc: ServiceProcess;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let events: PostgresEventStore;
let csJd: Record<string, string>;

const env = (type: string, orderId: string, data: Record<string, unknown>): EventEnvelope => ({
  eventId: ulid(), type, schemaVersion: 1, streamId: `order-${orderId}`, streamPosition: 0, occurredAt: '2026-12-04T04:00:00.000Z', correlationId: `c-${orderId}`, causationId: null, data: { orderId, ...data },
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${proc.httpUrl}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Body };
}

/** Places and pays an order of `shopId` through the intake: the paid order's customer messages (suppressed: no contact) are its rows. */
async function placeAndPay(intake: NotificationIntake, orderId: string, shopId: string | undefined) {
  const client = await pool.connect();
  try {
    const { shopId: _fixtureShop, ...data } = placed.data;
    for (const e of [
      env('OrderPlaced', orderId, { ...data, orderId, ...(shopId ? { shopId } : {}), customer: { ...placed.data.customer, channelCustomerId: `c-${orderId}`, nickname: '王小二' } }),
      env('OrderPaid', orderId, { amount: 29100, currency: 'CNY', paymentRef: `PAY-${orderId}`, paidAt: '2026-12-04T04:00:00.000Z' }),
    ]) {
      await client.query('BEGIN');
      await intake.apply(e, client);
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

const ordersOf = (rows: Body[]) => [...new Set(rows.map((n) => n.orderId as string))].sort();

beforeAll(async () => {
  db = await createTestDatabase('notification_shop_scope');
  proc = await startServiceProcess({
    service: 'notification',
    env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: testTopicPrefix(), NOTIFICATION_CONSUMER_GROUP: `notification-scope-${suffix}`, LOG_LEVEL: 'warn' },
    readyTimeoutMs: 180_000,
  });
  pool = new Pool({ connectionString: db.url, max: 4 });
  events = await PostgresEventStore.create({ pool });
  const config = loadNotificationConfig();
  const intake = new NotificationIntake({ config: () => config, events, clock: { now: async () => '2026-12-04T04:00:00.000Z', driven: false }, newId: () => ulid() });
  // Oldest first: the JD order, then the others, so a page filtered after its LIMIT would hold no JD row.
  await placeAndPay(intake, JD, 'jd-self-run');
  await placeAndPay(intake, TMALL, 'tmall-flagship');
  await placeAndPay(intake, LEGACY, undefined);
  for (const o of DOUYIN) await placeAndPay(intake, o, 'douyin-official');
  csJd = await authHeader('customer_service', { user: 'cs-jd' });
}, 300_000);

afterAll(async () => {
  await proc?.stop('SIGTERM').catch(() => undefined);
  await events?.close();
  await pool?.end();
  await db?.drop();
}, 60_000);

describe('notification read APIs scoped by shop (ADR 0018)', () => {
  it("filters a shop-limited user's list on an index of the order's shop (migration 2), not a read of every order's facts", async () => {
    const plan = await pool.query(`EXPLAIN SELECT order_id FROM notification.order_facts WHERE facts->>'shopId' = ANY($1::text[])`, [['jd-flagship']]);
    const client = await pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL enable_seqscan = off');
      const text = (await client.query(`EXPLAIN SELECT order_id FROM notification.order_facts WHERE facts->>'shopId' = ANY($1::text[])`, [['jd-flagship']])).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('order_facts_shop_idx');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect(plan.rows.length).toBeGreaterThan(0);
  });

  it("answers a shop-limited user 404 ORDER_NOT_KNOWN for another shop's order's delivery log, and its own shop's log in full", async () => {
    const other = await call('GET', `/api/orders/${TMALL}/notifications`, csJd);
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('ORDER_NOT_KNOWN');
    expect(JSON.stringify(other.json)).not.toContain('PAY-');
    // Answered as for an order notification has never seen: existence is not confirmed.
    const unknown = await call('GET', `/api/orders/o-never-${suffix}/notifications`, csJd);
    expect({ status: unknown.status, code: unknown.json.code }).toEqual({ status: other.status, code: other.json.code });

    const own = await call('GET', `/api/orders/${JD}/notifications`, csJd);
    expect(own.status).toBe(200);
    expect(own.json.notifications.length).toBeGreaterThan(0);
    expect(ordersOf(own.json.notifications)).toEqual([JD]);
    // Every-shop users see every order's log, as before.
    const admin = await call('GET', `/api/orders/${TMALL}/notifications`);
    expect(admin.status).toBe(200);
    expect(ordersOf(admin.json.notifications)).toEqual([TMALL]);
  });

  it("lists only the user's shops' notifications, in full pages (the scope is in the query, not applied after the limit)", async () => {
    const page = await call('GET', '/api/notifications?limit=3', csJd);
    expect(page.status).toBe(200);
    expect(page.json.notifications.length).toBeGreaterThan(0);
    expect(ordersOf(page.json.notifications)).toEqual([JD]);
    // Asking for another shop's order by filter lists nothing.
    expect((await call('GET', `/api/notifications?orderId=${TMALL}`, csJd)).json.notifications).toEqual([]);
    // The unscoped list's newest rows are the Douyin orders'.
    const all = await call('GET', '/api/notifications?limit=3');
    expect(ordersOf(all.json.notifications).every((o) => DOUYIN.includes(o))).toBe(true);
  });

  it("answers 404 NOTIFICATION_NOT_FOUND for one notification (and its attempts) of another shop's order", async () => {
    const [tmallRow] = (await call('GET', `/api/orders/${TMALL}/notifications`)).json.notifications as Body[];
    const [jdRow] = (await call('GET', `/api/orders/${JD}/notifications`)).json.notifications as Body[];
    const other = await call('GET', `/api/notifications/${tmallRow.notificationId}`, csJd);
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('NOTIFICATION_NOT_FOUND');
    const own = await call('GET', `/api/notifications/${jdRow.notificationId}`, csJd);
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ notificationId: jdRow.notificationId, orderId: JD, attemptsLog: [] });
  });

  it("keeps an order whose shop notification does not know (facts kept before the shop) from shop-limited users; every-shop users still see it", async () => {
    expect((await call('GET', `/api/orders/${LEGACY}/notifications`, csJd)).status).toBe(404);
    expect(ordersOf((await call('GET', '/api/notifications?limit=500', csJd)).json.notifications)).toEqual([JD]);
    const admin = await call('GET', `/api/orders/${LEGACY}/notifications`);
    expect(admin.status).toBe(200);
    expect(ordersOf(admin.json.notifications)).toEqual([LEGACY]);
  });

  it("renders no preview and no rules dry-run for another shop's order: 404 ORDER_NOT_KNOWN, as for an unknown order", async () => {
    const preview = { template: 'order_paid', channel: 'sms', orderId: TMALL };
    const other = await call('POST', '/api/notifications/preview', csJd, preview);
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('ORDER_NOT_KNOWN');
    expect((await call('POST', '/api/notifications/preview', csJd, { ...preview, orderId: JD })).status).toBe(200);
    expect((await call('POST', '/api/notifications/preview', {}, preview)).status).toBe(200);

    const dryRun = await call('POST', '/api/rules/notifications/dry-run', csJd, { event: 'OrderPaid', orderId: TMALL });
    expect(dryRun.status).toBe(404);
    expect(dryRun.json.code).toBe('ORDER_NOT_KNOWN');
    expect((await call('POST', '/api/rules/notifications/dry-run', csJd, { event: 'OrderPaid', orderId: JD })).status).toBe(200);
  });

  it("a delivery receipt sent with a shop-limited token changes nothing on another shop's notification", async () => {
    const [tmallRow] = (await call('GET', `/api/orders/${TMALL}/notifications`)).json.notifications as Body[];
    const [jdRow] = (await call('GET', `/api/orders/${JD}/notifications`)).json.notifications as Body[];
    // Both sent (as the dispatcher leaves them), so a receipt could apply to either.
    await pool.query(`UPDATE notification.notification SET status = 'sent', sent_at = now() WHERE notification_id = ANY($1)`, [[tmallRow.notificationId, jdRow.notificationId]]);
    const report = (outId: string) => ({ reports: [{ out_id: outId, phone_number: '13800001234', success: true, biz_id: 'b-1', report_time: '2026-12-04 12:00:05', err_code: 'DELIVERED', err_msg: '用户接收成功' }] });
    expect((await call('POST', '/api/inbound/aliyun-sms-report', csJd, report(tmallRow.notificationId))).json.applied).toBe(0);
    expect((await call('POST', '/api/inbound/aliyun-sms-report', csJd, report(jdRow.notificationId))).json.applied).toBe(1);
    const { rows } = await pool.query(`SELECT notification_id, status FROM notification.notification WHERE notification_id = ANY($1)`, [[tmallRow.notificationId, jdRow.notificationId]]);
    expect(Object.fromEntries(rows.map((r) => [r.notification_id, r.status]))).toEqual({ [tmallRow.notificationId]: 'sent', [jdRow.notificationId]: 'delivered' });
  });

  it('gRPC ListNotifications and PreviewTemplate follow the same scope (another shop: nothing listed, NOT_FOUND)', async () => {
    const client = grpcClient(proc.grpcAddress, resolve(__dirname, '../../../proto/notification/v1/notification.proto'), 'flowline.notification.v1.NotificationService');
    const jd = () => {
      const m = new Metadata();
      m.set('authorization', csJd.authorization);
      return m;
    };
    try {
      const scoped = await unary<{ notifications: Body[] }>(client, 'ListNotifications', { page: { pageSize: 3 } }, 5_000, jd());
      expect(scoped.notifications.length).toBeGreaterThan(0);
      expect(ordersOf(scoped.notifications)).toEqual([JD]);
      expect((await unary<{ notifications: Body[] }>(client, 'ListNotifications', { orderId: TMALL }, 5_000, jd())).notifications ?? []).toEqual([]);
      expect(ordersOf((await unary<{ notifications: Body[] }>(client, 'ListNotifications', { orderId: TMALL })).notifications)).toEqual([TMALL]);

      await expect(unary(client, 'PreviewTemplate', { template: 'order_paid', channel: 'sms', orderId: TMALL }, 5_000, jd())).rejects.toMatchObject({ code: 5 });
      expect(await unary<Body>(client, 'PreviewTemplate', { template: 'order_paid', channel: 'sms', orderId: JD }, 5_000, jd())).toMatchObject({ template: 'order_paid', kind: 'text' });
    } finally {
      client.close();
    }
  });
});
