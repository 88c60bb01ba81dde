import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/application/clock';
import { Dispatcher } from '../src/application/dispatcher';
import { notificationStream } from '../src/application/notification-events';
import { NotificationIntake } from '../src/application/notification-intake';
import { DingtalkRobotAdapter } from '../src/infra/channels/dingtalk-robot.adapter';
import { loadNotificationConfig } from '../src/infra/notification-config';
import { migrateNotification, NotificationStore } from '../src/infra/notification-store';
import { notificationRetentionRules } from '../src/infra/notification-runtime';
import { inboxDdl, pruneTable } from '@flowline/messaging';
import type { FakeHttpServer } from './fakes/fake-http';
import { dingtalkFake } from './fakes/robots.fake-server';

/*
 * The delivery core against the real PostgreSQL, without Kafka: the unique key holds when two
 * instances apply the same event at once (no inbox involved), and two dispatchers share one
 * DingTalk robot's 20-a-minute budget.
 */

const ulid = monotonicFactory();
const config = loadNotificationConfig();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let events: PostgresEventStore;
let robot: FakeHttpServer;

const placed = JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures/orders/OrderPlaced.v1.json'), 'utf8')) as EventEnvelope<Record<string, any>>;
const env = (type: string, orderId: string, data: Record<string, unknown>): EventEnvelope => ({ eventId: ulid(), type, schemaVersion: 1, streamId: `order-${orderId}`, streamPosition: 0, occurredAt: '2026-12-04T04:00:00.000Z', correlationId: 'c', causationId: null, data: { orderId, ...data } });

async function inTx(fn: (client: import('pg').PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await fn(client);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('notification_delivery');
  pool = new Pool({ connectionString: db.url, max: 10 });
  await migrateNotification(pool);
  events = await PostgresEventStore.create({ pool });
  robot = await dingtalkFake({ robots: { 'tok-a': 'SECa' }, perMinute: 1000 }).start();
});

afterAll(async () => {
  await robot?.close();
  await events?.close();
  await pool?.end();
  await db?.drop();
});

const intake = () => new NotificationIntake({ config: () => config, events, clock: { now: async () => '2026-12-04T04:00:00.000Z', driven: true }, newId: () => ulid() });

describe('delivery core (PostgreSQL)', () => {
  it('two instances applying the same event at once create each notification once (unique key, not the inbox)', async () => {
    const orderId = `o-${ulid()}`;
    const customer = `c-${ulid()}`;
    await pool.query(`INSERT INTO notification.customer_contact (customer_id, phone, wechat_openid) VALUES ($1, '13800001234', 'oUnique0001')`, [customer]);
    await inTx((c) => intake().apply(env('OrderPlaced', orderId, { ...placed.data, orderId, customer: { ...placed.data.customer, channelCustomerId: customer } }), c).then(() => undefined));
    const paid = env('OrderPaid', orderId, { amount: 100, currency: 'CNY', paidAt: '2026-12-04T04:00:00.000Z' });
    const [a, b] = [intake(), intake()];
    await Promise.all([inTx((c) => a.apply(paid, c).then(() => undefined)), inTx((c) => b.apply(paid, c).then(() => undefined)), inTx((c) => a.apply(paid, c).then(() => undefined))]);
    const rows = await pool.query(`SELECT channel FROM notification.notification WHERE order_id = $1 ORDER BY channel`, [orderId]);
    expect(rows.rows.map((r) => r.channel)).toEqual(['sms', 'wechat_template']);
  });

  it('two dispatchers share one robot\'s 20-a-minute budget: the 21st message waits, its attempt not counted', async () => {
    const orderId = `o-${ulid()}`;
    await inTx((c) => intake().apply(env('OrderPlaced', orderId, { ...placed.data, orderId }), c).then(() => undefined));
    for (let i = 0; i < 24; i++) {
      await inTx((c) => intake().apply(env('ApprovalStepStarted', orderId, { approvalId: `ap-${i}`, step: 'sales', role: 'sales', quorum: 'any', attempt: 1, startedAt: 'x', remindAt: 'x', dueAt: '2026-12-04T10:00:00.000Z' }), c).then(() => undefined));
    }
    const adapters = { dingtalk: new DingtalkRobotAdapter((name) => (name === 'dingtalk-approvals' ? { url: `${robot.url}/robot/send?access_token=tok-a`, secret: 'SECa' } : undefined)) };
    const dispatcher = () => new Dispatcher({ pool, events, adapters, clock: systemClock, retry: { maxAttempts: 3, initialMs: 100, maxMs: 100 }, newId: () => ulid(), robotLimit: { perMinute: 20 }, config: () => config, batchSize: 8 });
    const [d1, d2] = [dispatcher(), dispatcher()];
    for (let i = 0; i < 5; i++) await Promise.all([d1.tick(), d2.tick()]);
    const status = await pool.query(`SELECT status, count(*)::int AS n, max(attempts) AS a FROM notification.notification WHERE order_id = $1 GROUP BY status ORDER BY status`, [orderId]);
    expect(status.rows).toEqual([
      { status: 'delivered', n: 20, a: 1 },
      { status: 'queued', n: 4, a: 0 },
    ]);
    expect(robot.accepted()).toHaveLength(20);
    const waiting = await pool.query(`SELECT min(next_attempt_at) > now() + interval '30 seconds' AS later FROM notification.notification WHERE order_id = $1 AND status = 'queued'`, [orderId]);
    expect(waiting.rows[0].later).toBe(true);
  });
  it('a message the provider accepted is recorded at once, not after the slowest send of its batch (a crash then resends only what was in flight)', async () => {
    const orderId = `o-${ulid()}`;
    await inTx((c) => intake().apply(env('OrderPlaced', orderId, { ...placed.data, orderId }), c).then(() => undefined));
    for (let i = 0; i < 3; i++) {
      await inTx((c) => intake().apply(env('ApprovalStepStarted', orderId, { approvalId: `inflight-${i}`, step: 'sales', role: 'sales', quorum: 'any', attempt: 1, startedAt: 'x', remindAt: 'x', dueAt: '2026-12-04T10:00:00.000Z' }), c).then(() => undefined));
    }
    const ids = (await pool.query<{ notification_id: string }>(`SELECT notification_id FROM notification.notification WHERE order_id = $1 AND channel = 'dingtalk' ORDER BY notification_id`, [orderId])).rows.map((r) => r.notification_id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    await pool.query(`UPDATE notification.notification SET next_attempt_at = now() - interval '1 minute' WHERE order_id = $1`, [orderId]);
    const slow = ids[0];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const adapter = {
      channel: 'dingtalk' as const,
      async send(m: { notificationId: string }) {
        if (m.notificationId === slow) await gate;
        return { ok: true as const, providerMessageId: `pm-${m.notificationId}`, delivered: true };
      },
    };
    const d = new Dispatcher({ pool, events, adapters: { dingtalk: adapter }, clock: systemClock, retry: { maxAttempts: 3, initialMs: 100, maxMs: 100 }, newId: () => ulid(), config: () => config, batchSize: 200 });
    const statusOf = async () =>
      Object.fromEntries((await pool.query<{ notification_id: string; status: string }>(`SELECT notification_id, status FROM notification.notification WHERE notification_id = ANY($1)`, [ids])).rows.map((r) => [r.notification_id, r.status]));
    const tick = d.tick();
    try {
      // The fast sends are on record (with their NotificationSent) while the slow one is still at its provider.
      await expect.poll(async () => { const s = await statusOf(); return ids.slice(1).every((id) => s[id] === 'delivered'); }, { timeout: 10_000, interval: 50 }).toBe(true);
      expect((await statusOf())[slow]).toBe('sending');
      for (const id of ids.slice(1)) expect((await events.readStream(notificationStream(id))).map((e) => e.type)).toEqual(['NotificationSent']);
    } finally {
      release();
      await tick;
    }
    expect((await statusOf())[slow]).toBe('delivered');
  });
  it('claimDue leases due and lease-expired notifications only, walking the due index (no bitmap scan that would re-read every sent row until VACUUM)', async () => {
    const orderId = `o-${ulid()}`;
    await inTx((c) => intake().apply(env('OrderPlaced', orderId, { ...placed.data, orderId }), c).then(() => undefined));
    for (let i = 0; i < 4; i++) {
      await inTx((c) => intake().apply(env('ApprovalStepStarted', orderId, { approvalId: `lease-${i}`, step: 'sales', role: 'sales', quorum: 'any', attempt: 1, startedAt: 'x', remindAt: 'x', dueAt: '2026-12-04T10:00:00.000Z' }), c).then(() => undefined));
    }
    const ids = (await pool.query<{ notification_id: string }>(`SELECT notification_id FROM notification.notification WHERE order_id = $1 ORDER BY notification_id`, [orderId])).rows.map((r) => r.notification_id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    const [expired, live, sent, queued] = ids;
    const past = '2026-12-04T03:00:00.000Z';
    await pool.query(`UPDATE notification.notification SET next_attempt_at = $2 WHERE order_id = $1`, [orderId, past]);
    await pool.query(`UPDATE notification.notification SET status = 'sending', lease_until = '2026-12-04T03:30:00.000Z' WHERE notification_id = $1`, [expired]);
    await pool.query(`UPDATE notification.notification SET status = 'sending', lease_until = '2026-12-04T09:00:00.000Z' WHERE notification_id = $1`, [live]);
    await pool.query(`UPDATE notification.notification SET status = 'sent' WHERE notification_id = $1`, [sent]);
    const now = '2026-12-04T04:00:00.000Z';
    const claimed = (await NotificationStore.claimDue(pool, now, 100, 60_000)).filter((n) => n.orderId === orderId).map((n) => n.notificationId);
    expect(claimed).toContain(expired);
    expect(claimed).toContain(queued);
    expect(claimed).not.toContain(live);
    expect(claimed).not.toContain(sent);
    // Seq and bitmap scans off: on a test-sized table the planner picks either depending on its
    // statistics of the moment (CI saw a bitmap scan). The plan shape is the point: the due index
    // walked in next_attempt_at order, so no Sort above it.
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    await client.query('SET LOCAL enable_bitmapscan = off');
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT notification_id FROM notification.notification
        WHERE status IN ('queued', 'held', 'retrying', 'sending') AND next_attempt_at <= $1 AND (status <> 'sending' OR lease_until < $1)
        ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    await client.query('ROLLBACK');
    client.release();
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('Index Scan using notification_due_idx');
    expect(text).not.toMatch(/\bSort\b/);
  });
  it('claimDue is prepared once per connection and keeps working when a migration adds a column meanwhile (its RETURNING names its columns)', async () => {
    const one = new Pool({ connectionString: db.url, max: 1 });
    one.on('error', () => undefined);
    try {
      const orderId = `o-${ulid()}`;
      await inTx((c) => intake().apply(env('ApprovalStepStarted', orderId, { approvalId: 'prep-1', step: 'sales', role: 'sales', quorum: 'any', attempt: 1, startedAt: 'x', remindAt: 'x', dueAt: '2026-12-04T10:00:00.000Z' }), c).then(() => undefined));
      const far = '2030-01-01T00:00:00.000Z';
      expect((await NotificationStore.claimDue(one, '2020-01-01T00:00:00.000Z', 10, 60_000)).filter((n) => n.orderId === orderId)).toEqual([]);
      const prepared = await one.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%UPDATE notification.notification n SET status = ''sending''%'`);
      expect(prepared.rows[0].n).toBe(1);
      // Reused on the next tick: still one.
      await NotificationStore.claimDue(one, '2020-01-01T00:00:00.000Z', 10, 60_000);
      expect((await one.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%UPDATE notification.notification n SET status = ''sending''%'`)).rows[0].n).toBe(1);
      // A later release's migration adds a column while this replica runs: a prepared RETURNING *
      // would now fail with "cached plan must not change result type".
      await pool.query(`ALTER TABLE notification.notification ADD COLUMN IF NOT EXISTS test_added_column text`);
      const claimed = await NotificationStore.claimDue(one, far, 1_000, 60_000);
      expect(claimed.map((n) => n.orderId)).toContain(orderId);
      expect(claimed.find((n) => n.orderId === orderId)).toMatchObject({ status: 'sending', channel: expect.any(String), attempts: 1 });
      // The plan it settles on without seeing the values (after five custom plans, or forced): the
      // due index walked in order, no scan of the table. A table of a running system holds mostly
      // closed notifications (outside the due index); on the few rows other tests left, the planner
      // may as well read the table (CI saw it), so it gets 3,000 delivered ones and fresh statistics.
      await pool.query(
        `INSERT INTO notification.notification
         SELECT (jsonb_populate_record(NULL::notification.notification, to_jsonb(n) || jsonb_build_object(
           'notification_id', n.notification_id || '-closed-' || g, 'dedup_key', n.dedup_key || '-closed-' || g, 'order_id', 'closed-' || $2 || '-' || g,
           'status', 'delivered', 'lease_until', NULL))).*
         FROM notification.notification n, generate_series(1, 3000) g WHERE n.order_id = $1 AND n.notification_id = (SELECT min(notification_id) FROM notification.notification WHERE order_id = $1)`,
        [orderId, ulid()],
      );
      await pool.query('ANALYZE notification.notification');
      const client = await one.connect();
      try {
        const name = (await client.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE statement LIKE '%UPDATE notification.notification n SET status = ''sending''%LIMIT 10 FOR UPDATE%'`)).rows[0].name;
        await client.query('SET plan_cache_mode = force_generic_plan');
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}('${far}', '60000')`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('Index Scan using notification_due_idx');
        expect(plan).not.toMatch(/Seq Scan|Bitmap Heap Scan on notification\b/);
      } finally {
        await client.query('RESET plan_cache_mode');
        client.release();
      }
    } finally {
      await pool.query(`ALTER TABLE notification.notification DROP COLUMN IF EXISTS test_added_column`);
      await one.end();
    }
  });
  it("the consumer inbox is pruned by age with libs/messaging's retention job rules (INBOX_RETENTION_DAYS)", async () => {
    await pool.query(inboxDdl());
    await pool.query(`INSERT INTO messaging_inbox (consumer_group, event_id, event_type, topic, partition, "offset", processed_at)
      SELECT 'notification', 'old-' || g, 'OrderPaid', 'orders.events.v1', 0, g, now() - interval '31 days' FROM generate_series(1, 3) g
      UNION ALL SELECT 'notification', 'young-' || g, 'OrderPaid', 'orders.events.v1', 0, 10 + g, now() - interval '29 days' FROM generate_series(1, 2) g`);
    const rules = notificationRetentionRules({});
    expect(rules).toEqual([{ table: 'messaging_inbox', column: 'processed_at', days: 30 }, { table: 'notification.http_idempotency', column: 'created_at', days: 7 }]);
    expect(await pruneTable(pool, rules[0])).toBe(3);
    expect((await pool.query<{ event_id: string }>('SELECT event_id FROM messaging_inbox ORDER BY event_id')).rows.map((r) => r.event_id)).toEqual(['young-1', 'young-2']);
    expect(notificationRetentionRules({ INBOX_RETENTION_DAYS: '7' })[0].days).toBe(7);
  });
});
