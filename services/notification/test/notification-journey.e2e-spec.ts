import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { grpcClient, startServiceProcess, unary, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, personaHeader, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliyunSmsFake } from './fakes/aliyun-sms.fake-server';
import type { FakeHttpServer, FakeRecord } from './fakes/fake-http';
import { dingtalkFake, webhookReceiverFake, wecomFake } from './fakes/robots.fake-server';
import { startSmtpSink, type SmtpSink } from './fakes/smtp.fake-server';
import { wechatFake, type WechatFake } from './fakes/wechat.fake-server';

/*
 * The notification service as two processes (same database, same consumer group) against the
 * real Kafka and PostgreSQL, every channel against its local fake. The order, approval and
 * fulfillment events are published by this test exactly as libs/contracts defines them (the
 * services that publish them are not needed to prove notification's behaviour, and fulfillment is
 * being built in parallel). The clock is driven (NOTIFICATION_CLOCK=driven: one DB row both
 * instances read), so quiet hours are shown without waiting for a night.
 */

const ulid = monotonicFactory();
const prefix = testTopicPrefix();
const group = `notification-e2e-${uniqueSuffix()}`;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let trackingDb: Awaited<ReturnType<typeof createTestDatabase>>;
const procs: ServiceProcess[] = [];
let tracking: ServiceProcess;
let sms: FakeHttpServer;
let wechat: WechatFake;
let dingtalk: FakeHttpServer;
let wecom: FakeHttpServer;
let webhook: FakeHttpServer;
let smtp: SmtpSink;
let publisher: EventPublisher;
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'notification-e2e' });

// 12:00 in Shanghai.
const NOON = '2026-12-04T04:00:00.000Z';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function api(method: string, path: string, body?: unknown, instance = 0): Promise<{ status: number; json: any }> {
  const res = await fetch(`${procs[instance].httpUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const placedFixture = JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures/orders/OrderPlaced.v1.json'), 'utf8')) as EventEnvelope<Record<string, any>>;

function envelope(type: string, orderId: string, position: number, data: Record<string, unknown>, occurredAt = NOON): EventEnvelope {
  return { eventId: ulid(), type, schemaVersion: 1, streamId: `order-${orderId}`, streamPosition: position, occurredAt, correlationId: `corr-${orderId}`, causationId: null, data: { orderId, ...data } };
}

function orderPlaced(orderId: string, customerId: string, channelOrderId: string): EventEnvelope {
  return envelope('OrderPlaced', orderId, 0, { ...placedFixture.data, orderId, channel: 'jd', channelOrderId, customer: { ...placedFixture.data.customer, channelCustomerId: customerId, tags: [] }, tags: [] });
}

async function publish(topic: string, ...envelopes: EventEnvelope[]): Promise<void> {
  for (const e of envelopes) await publisher.publish([{ topic, key: (e.data as { orderId: string }).orderId, envelope: e }]);
}

async function setClock(now: string): Promise<void> {
  const r = await api('PUT', '/api/notifications-clock', { now });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function log(orderId: string): Promise<any[]> {
  const r = await api('GET', `/api/orders/${orderId}/notifications`);
  return r.json.notifications as any[];
}

const smsTo = (phone: string): FakeRecord[] => sms.accepted().filter((r) => r.phone === phone);

beforeAll(async () => {
  db = await createTestDatabase('notification_e2e');
  trackingDb = await createTestDatabase('notification_e2e_tracking');
  sms = await aliyunSmsFake({ keys: { LTAI_e2e: 'sms-secret' } }).start();
  wechat = await wechatFake({ apps: { wx_oa_e2e: 'oa-secret', wx_mp_e2e: 'mp-secret' } }).start();
  dingtalk = await dingtalkFake({ robots: { 'tok-approvals': 'SECe2e' } }).start();
  wecom = await wecomFake({ keys: ['key-wh'] }).start();
  webhook = await webhookReceiverFake({ secret: 'hook-secret' }).start();
  smtp = await startSmtpSink({ user: 'flowline', pass: 'smtp-secret' });
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    NOTIFICATION_CONSUMER_GROUP: group,
    NOTIFICATION_FROM_BEGINNING: '1',
    NOTIFICATION_CLOCK: 'driven',
    NOTIFICATION_DISPATCH_INTERVAL_MS: '100',
    NOTIFICATION_RETRY_INITIAL_MS: '200',
    NOTIFICATION_RETRY_MAX_MS: '1000',
    NOTIFICATION_MAX_ATTEMPTS: '5',
    ALIYUN_SMS_URL: sms.url,
    ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI_e2e',
    ALIYUN_SMS_ACCESS_KEY_SECRET: 'sms-secret',
    WECHAT_API_URL: wechat.url,
    WECHAT_OA_APPID: 'wx_oa_e2e',
    WECHAT_OA_SECRET: 'oa-secret',
    WECHAT_MP_APPID: 'wx_mp_e2e',
    WECHAT_MP_SECRET: 'mp-secret',
    SMTP_URL: smtp.smtpUrl(),
    DINGTALK_ROBOT_URL: `${dingtalk.url}/robot/send?access_token=tok-approvals`,
    DINGTALK_ROBOT_SECRET: 'SECe2e',
    WECOM_ROBOT_URL: `${wecom.url}/cgi-bin/webhook/send?key=key-wh`,
    WEBHOOK_URL: `${webhook.url}/hook`,
    WEBHOOK_URL_SECRET: 'hook-secret',
    ALIYUN_SMS_INBOX_URL: `${sms.url}/__inbox`,
    WECHAT_INBOX_URL: `${wechat.url}/__inbox`,
    DINGTALK_INBOX_URL: `${dingtalk.url}/__inbox`,
    SMTP_INBOX_URL: `${smtp.inbox.url}/__inbox`,
  };
  // Two instances of the service: one database, one consumer group.
  // Tracking reads notification.events.v1 into the order's timeline.
  // The events here carry fixed times (NOON, 2026-12-04) while tracking's SLA and stuck scans run on
  // the real clock: once those times are a day old, tracking flagged these orders itself (OrderStuck,
  // OrderSlaTurnedRed) and the staff messages it caused broke the exact counts below. Budgets far
  // beyond any run keep tracking's own alerts out; the SLA test publishes its alerts itself.
  const trackingEnv = {
    DATABASE_URL: trackingDb.url, KAFKA_BROKERS: env.KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', TRACKING_CONSUMER_GROUP: `tracking-${group}`,
    TRACKING_SLA_PAID_TO_READY: '3650d', TRACKING_SLA_APPROVAL: '3650d', TRACKING_SLA_READY_TO_SHIPPED: '3650d', TRACKING_STUCK_AFTER: '3650d',
  };
  const [a, b, t] = await Promise.all([startServiceProcess({ service: 'notification', env, readyTimeoutMs: 150_000 }), startServiceProcess({ service: 'notification', env, readyTimeoutMs: 150_000 }), startServiceProcess({ service: 'tracking', env: trackingEnv, readyTimeoutMs: 150_000 })]);
  procs.push(a, b);
  tracking = t;
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
  await setClock(NOON);
  // Three processes booting on a shared two-core machine: allow for load.
}, 240_000);

afterAll(async () => {
  if (process.env.NOTIFICATION_E2E_LOG) for (const [i, p] of procs.entries()) require('node:fs').writeFileSync(`${process.env.NOTIFICATION_E2E_LOG}.${i}`, p.output());
  await publisher?.disconnect().catch(() => undefined);
  await Promise.all([...procs, tracking].filter(Boolean).map((p) => p.stop('SIGTERM', 15_000)));
  await Promise.all([sms, wechat, dingtalk, wecom, webhook].map((f) => f?.close()));
  await smtp?.close();
  await db?.drop();
  await trackingDb?.drop();
});

describe('notification service (two instances, real Kafka + PostgreSQL, local fakes)', () => {
  const orderId = `o-${uniqueSuffix()}`;
  const customerId = `jd_cust_${uniqueSuffix()}`;
  const phone = '13800001234';
  let journey: EventEnvelope[] = [];

  it('order paid -> shipped -> delivered sends exactly the configured zh-CN customer messages, with amounts and the tracking number, and logs each', async () => {
    expect((await api('PUT', `/api/contacts/${customerId}`, { phone, wechatOpenId: 'oJourney0001', locale: 'zh-CN' })).status).toBe(200);
    journey = [
      orderPlaced(orderId, customerId, 'JD-900001'),
      envelope('OrderPaid', orderId, 1, { amount: 28700, currency: 'CNY', paidAt: '2026-12-04T03:58:00.000Z' }),
      envelope('OrderShipped', orderId, 2, { shipmentId: 'SHP-1', carrier: '顺丰速运', trackingNumber: 'SF1402837465012' }),
      envelope('OrderDelivered', orderId, 3, { deliveredAt: '2026-12-06T06:30:00.000Z' }),
    ];
    await publish(Topics.orderEvents, ...journey);
    const rows = await eventually('five messages sent', async () => {
      const l = await log(orderId);
      return l.length === 5 && l.every((n) => n.status === 'sent') ? l : undefined;
    });
    expect(smsTo(phone).map((r) => r.text).sort()).toEqual([
      '【Flowline】您的订单JD-900001已支付¥287.00，共3件商品，我们将尽快为您发货。',
      '【Flowline】您的订单JD-900001已发货，顺丰速运运单号SF1402837465012，请留意查收。',
      '【Flowline】您的订单JD-900001已于2026/12/06 14:30签收，感谢您的支持。',
    ].sort());
    const wx = wechat.accepted().filter((r) => r.touser === 'oJourney0001');
    expect(wx.map((r) => r.fields as Record<string, string>).sort((a, b) => String(a.thing2 ?? '').localeCompare(String(b.thing2 ?? '')))).toEqual([
      { character_string1: 'JD-900001', amount2: '¥287.00', thing3: '明前西湖龙井 250g 礼盒 等3件', time4: '2026/12/04 11:58' },
      { character_string1: 'JD-900001', thing2: '明前西湖龙井 250g 礼盒', thing3: '顺丰速运', character_string4: 'SF1402837465012' },
    ]);
    expect(rows.map((n) => `${n.triggerEventType}:${n.channel}`).sort()).toEqual(['OrderDelivered:sms', 'OrderPaid:sms', 'OrderPaid:wechat_template', 'OrderShipped:sms', 'OrderShipped:wechat_template']);
    expect(rows.every((n) => n.recipientMasked === '138****1234' || n.recipientMasked === 'oJou****0001')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(phone);
    // Aliyun's delivery receipts (SmsReport), matched by OutId: one delivered, one a carrier failure.
    const smsRows = rows.filter((n) => n.channel === 'sms').sort((a, b) => a.triggerEventType.localeCompare(b.triggerEventType));
    const report = await api('POST', '/api/inbound/aliyun-sms-report', {
      reports: [
        { phone_number: phone, success: true, err_code: 'DELIVERED', err_msg: '用户接收成功', report_time: '2026-12-04 12:00:05', biz_id: 'x', out_id: smsRows[0].notificationId },
        { phone_number: phone, success: false, err_code: 'MOBILE_NOT_ON_SERVICE', err_msg: '停机', report_time: '2026-12-04 12:00:06', biz_id: 'y', out_id: smsRows[1].notificationId },
        { phone_number: phone, success: true, out_id: 'unknown' },
      ],
    });
    expect(report.json).toEqual({ code: 0, msg: '成功', applied: 2 });
    const after = await log(orderId);
    expect(after.find((n) => n.notificationId === smsRows[0].notificationId)).toMatchObject({ status: 'delivered', deliveredAt: '2026-12-04T04:00:05.000Z' });
    expect(after.find((n) => n.notificationId === smsRows[1].notificationId)).toMatchObject({ status: 'failed', lastCode: 'MOBILE_NOT_ON_SERVICE' });
    // Every SMS carried its notification id as OutId.
    expect(smsTo(phone).map((r) => r.outId).sort()).toEqual(rows.filter((n) => n.channel === 'sms').map((n) => n.notificationId).sort());

    // The same log over gRPC.
    const client = grpcClient(procs[1].grpcAddress, 'notification/v1/notification.proto', 'flowline.notification.v1.NotificationService');
    const res = await unary<{ notifications: { status: string; orderId: string }[] }>(client, 'ListNotifications', { orderId, page: { pageSize: 50 } });
    expect(res.notifications.map((n) => n.status).sort()).toEqual(['NOTIFICATION_STATUS_DELIVERED', 'NOTIFICATION_STATUS_FAILED', 'NOTIFICATION_STATUS_SENT', 'NOTIFICATION_STATUS_SENT', 'NOTIFICATION_STATUS_SENT']);
    client.close();
  });

  it('publishes NotificationSent for each message on notification.events.v1, keyed by the order (what tracking\'s timeline reads)', async () => {
    const consumer = kafka.consumer({ groupId: `probe-${uniqueSuffix()}` });
    const seen: EventEnvelope[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}${Topics.notificationEvents}`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(JSON.parse(message.value?.toString() ?? '{}') as EventEnvelope) });
    try {
      const sent = await eventually('five NotificationSent', async () => {
        const s = seen.filter((e) => e.type === 'NotificationSent' && (e.data as { orderId: string }).orderId === orderId);
        return s.length >= 5 ? s : undefined;
      });
      expect(sent).toHaveLength(5);
      expect(sent.map((e) => (e.data as { template: string }).template).sort()).toEqual(['order_delivered', 'order_paid', 'order_paid', 'order_shipped', 'order_shipped']);
      expect(JSON.stringify(sent)).not.toContain(phone);
    } finally {
      await consumer.disconnect();
    }
  });

  it("shows each message on the order's tracking timeline (tracking reads notification.events.v1)", async () => {
    const lines = await eventually('notification lines on the timeline', async () => {
      const r = await fetch(`${tracking.httpUrl}/api/tracking/orders/${orderId}`);
      if (r.status !== 200) return undefined;
      const view = (await r.json()) as { timeline: { type: string; context: string; what: { zh: string } }[] };
      const n = view.timeline.filter((e) => e.context === 'notification');
      return n.length === 6 ? n : undefined;
    });
    expect(lines.filter((l) => l.type === 'NotificationFailed').map((l) => l.what.zh)).toEqual(['通知未送达：138****1234（短信，order_paid）']);
    expect(lines.filter((l) => l.type === 'NotificationSent').map((l) => l.what.zh).sort()).toEqual([
      '已通知顾客 138****1234（短信，order_delivered）',
      '已通知顾客 138****1234（短信，order_paid）',
      '已通知顾客 138****1234（短信，order_shipped）',
      '已通知顾客 oJou****0001（微信公众号，order_paid）',
      '已通知顾客 oJou****0001（微信公众号，order_shipped）',
    ]);
  });

  it('previews a template against the real order (ICU zh-CN / en, e-mail HTML layout); bad input names the fields', async () => {
    const zh = await api('POST', '/api/notifications/preview', { template: 'order_shipped', channel: 'sms', orderId, event: { type: 'OrderShipped', data: { carrier: '京东物流', trackingNumber: 'JDX001' } } });
    expect(zh.status, JSON.stringify(zh.json)).toBe(200);
    expect(zh.json.message).toEqual({ kind: 'text', text: '【Flowline】您的订单JD-900001已发货，京东物流运单号JDX001，请留意查收。' });
    const en = await api('POST', '/api/notifications/preview', { template: 'order_paid', channel: 'email', locale: 'en', orderId, event: { type: 'OrderPaid', data: { amount: 100, paidAt: '2026-12-04T16:05:00.000Z' } } });
    expect(en.json.message).toEqual({ kind: 'email', subject: 'Order JD-900001 paid', text: 'Hello, we received CN¥1.00 for order JD-900001 (3 items) on 12/05/2026, 00:05.' });
    expect(en.json.html).toContain('<title>Order JD-900001 paid</title>');
    const bad = await api('POST', '/api/notifications/preview', { template: 'order_paid', channel: 'pager', orderId, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['channel', 'extra']);
    const unknown = await api('POST', '/api/notifications/preview', { template: 'nope', channel: 'sms', orderId });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('TEMPLATE_NOT_FOUND');

    // The same over gRPC, and the log filtered by status.
    const client = grpcClient(procs[0].grpcAddress, 'notification/v1/notification.proto', 'flowline.notification.v1.NotificationService');
    try {
      const g = await unary<{ kind: string; text: string; wechatFields: Record<string, string> }>(client, 'PreviewTemplate', { template: 'order_shipped', channel: 'wechat_template', locale: 'zh-CN', orderId, eventType: 'OrderShipped', eventDataJson: JSON.stringify({ carrier: '京东物流', trackingNumber: 'JDX001' }) });
      expect(g).toMatchObject({ kind: 'wechat', wechatFields: { character_string1: 'JD-900001', thing2: '明前西湖龙井 250g 礼盒', thing3: '京东物流', character_string4: 'JDX001' } });
      await expect(unary(client, 'PreviewTemplate', { template: 'order_shipped', channel: 'pager', orderId })).rejects.toMatchObject({ code: 3 });
      const sms = await unary<{ notifications: { channel: string; status: string; attempts: number; templateVersion: number }[] }>(client, 'ListNotifications', { orderId, channel: 'sms', status: 'NOTIFICATION_STATUS_DELIVERED' });
      expect(sms.notifications.map((n) => `${n.channel}:${n.status}:${n.attempts}:${n.templateVersion}`)).toEqual(['sms:NOTIFICATION_STATUS_DELIVERED:1:1']);
    } finally {
      client.close();
    }
  });

  it('the same events redelivered (to two instances) send nothing again', async () => {
    await publish(Topics.orderEvents, ...journey, ...journey);
    // The group's committed offsets reaching the end of the topic prove every redelivery was consumed.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}${Topics.orderEvents}`;
      await eventually('redeliveries consumed', async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        // An empty partition has high 0 and no committed offset (-1).
        return ends.every((e) => e.high === '0' || committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high) ? true : undefined;
      });
    } finally {
      await admin.disconnect();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(smsTo(phone)).toHaveLength(3);
    expect(await log(orderId)).toHaveLength(5);
  });

  it('quiet hours (22:00-08:00 Shanghai) hold a customer message and release it at 08:00', async () => {
    const o = `o-${uniqueSuffix()}`;
    const c = `jd_cust_${uniqueSuffix()}`;
    await api('PUT', `/api/contacts/${c}`, { phone: '13900002222' });
    await setClock('2026-12-04T15:30:00.000Z'); // 23:30 in Shanghai
    try {
      await publish(Topics.orderEvents, orderPlaced(o, c, 'JD-900002'), envelope('OrderShipped', o, 1, { shipmentId: 'SHP-2', carrier: '中通快递', trackingNumber: 'ZT7788' }));
      const smsRow = async () => (await log(o)).find((n) => n.channel === 'sms');
      const held = await eventually('held', async () => {
        const n = await smsRow();
        return n?.status === 'held' ? n : undefined;
      });
      // No WeChat open id for this customer: that one is suppressed, visibly, not lost.
      expect((await log(o)).find((n) => n.channel === 'wechat_template')).toMatchObject({ status: 'suppressed', lastCode: 'no_address' });
      expect(held.heldUntil).toBe('2026-12-05T00:00:00.000Z');
      await setClock('2026-12-04T23:59:00.000Z'); // 07:59: still quiet
      await new Promise((r) => setTimeout(r, 800));
      expect((await smsRow())?.status).toBe('held');
      expect(smsTo('13900002222')).toHaveLength(0);
      await setClock('2026-12-05T00:00:00.000Z'); // 08:00
      await eventually('released and sent', async () => ((await smsRow())?.status === 'sent' ? true : undefined));
      expect(smsTo('13900002222').map((r) => r.text)).toEqual(['【Flowline】您的订单JD-900002已发货，中通快递运单号ZT7788，请留意查收。']);
    } finally {
      await setClock(NOON);
    }
  });

  it('an SMS reply "TD" opts the number out: the SMS is suppressed (logged), WeChat still goes', async () => {
    const o = `o-${uniqueSuffix()}`;
    const c = `jd_cust_${uniqueSuffix()}`;
    await api('PUT', `/api/contacts/${c}`, { phone: '13700003333', wechatOpenId: 'oOptOut00001' });
    const up = await api('POST', '/api/inbound/aliyun-sms', { messages: [{ phone_number: '8613700003333', content: ' TD ', send_time: '2026-12-04 12:00:00', dest_code: '1', sequence_id: 1 }] });
    expect(up.json).toEqual({ code: 0, msg: '成功', optedOut: 1 });
    expect((await api('GET', `/api/contacts/${c}/preferences`)).json.optedOut).toMatchObject([{ channel: 'sms', source: 'sms-reply:TD' }]);
    await publish(Topics.orderEvents, orderPlaced(o, c, 'JD-900003'), envelope('OrderPaid', o, 1, { amount: 1000, currency: 'CNY', paidAt: NOON }));
    const rows = await eventually('both decided', async () => {
      const l = await log(o);
      return l.length === 2 && l.every((n) => n.status !== 'queued' && n.status !== 'sending') ? l : undefined;
    });
    expect(Object.fromEntries(rows.map((n) => [n.channel, `${n.status}:${n.lastCode ?? ''}`]))).toEqual({ sms: 'suppressed:opted_out', wechat_template: 'sent:' });
    expect(smsTo('13700003333')).toHaveLength(0);
  });

  it('WeChat 43101 (no subscription left) is recorded with its code and never retried', async () => {
    const o = `o-${uniqueSuffix()}`;
    const c = `jd_cust_${uniqueSuffix()}`;
    await api('PUT', `/api/contacts/${c}`, { miniProgramOpenId: 'oMiniNoSub01' });
    await publish(Topics.orderEvents, orderPlaced(o, c, 'JD-900004'), envelope('OrderApproved', o, 1, { chain: 'change', approvalId: 'ap-1' }));
    const row = await eventually('failed', async () => {
      const l = await log(o);
      return l[0]?.status === 'failed' ? l[0] : undefined;
    });
    expect(row).toMatchObject({ channel: 'wechat_subscribe', status: 'failed', lastCode: '43101', attempts: 1 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(wechat.refused().filter((r) => r.touser === 'oMiniNoSub01' && r.errcode === 43101)).toHaveLength(1);
    expect((await api('GET', `/api/notifications/${row.notificationId}`)).json.attemptsLog).toMatchObject([{ attempt: 1, outcome: 'failed', code: '43101' }]);
  });

  it('an SMS provider failing 3 times then succeeding sends the message once', async () => {
    const o = `o-${uniqueSuffix()}`;
    const c = `jd_cust_${uniqueSuffix()}`;
    await api('PUT', `/api/contacts/${c}`, { phone: '13600004444' });
    await fetch(`${sms.url}/__control/fail`, { method: 'POST', body: JSON.stringify({ count: 3, status: 503, json: { Code: 'ServiceUnavailable', Message: 'temporary failure' } }) });
    await publish(Topics.orderEvents, orderPlaced(o, c, 'JD-900005'), envelope('OrderDelivered', o, 1, { deliveredAt: NOON }));
    const row = await eventually('sent after retries', async () => {
      const l = await log(o);
      return l[0]?.status === 'sent' ? l[0] : undefined;
    });
    expect(row.attempts).toBe(4);
    expect(smsTo('13600004444')).toHaveLength(1);
    expect(sms.refused().filter((r) => r.outId === row.notificationId)).toHaveLength(3);
    const attempts = (await api('GET', `/api/notifications/${row.notificationId}`)).json.attemptsLog as { outcome: string; code: string | null }[];
    expect(attempts.map((a) => `${a.outcome}:${a.code ?? ''}`)).toEqual(['retry:ServiceUnavailable', 'retry:ServiceUnavailable', 'retry:ServiceUnavailable', 'sent:']);
  });

  it("an approval step reminder reaches the approver's DingTalk robot, signed", async () => {
    const o = `o-${uniqueSuffix()}`;
    // As approval publishes it when a step's reminder time passes (libs/contracts ApprovalStepReminded).
    const reminded: EventEnvelope = {
      ...envelope('ApprovalStepReminded', o, 3, { approvalId: 'ap-2', step: 'sales', attempt: 1, principals: ['role:sales'], remindedAt: NOON, dueAt: '2026-12-04T10:00:00.000Z' }),
      streamId: 'approval-ap-2',
    };
    // Topics are not ordered with each other: the reminder may arrive before the order's OrderPlaced.
    // It is then rendered when the order's facts arrive (here: published after it).
    await publish(Topics.approvalEvents, reminded);
    await new Promise((r) => setTimeout(r, 300));
    await publish(Topics.orderEvents, orderPlaced(o, `jd_cust_${uniqueSuffix()}`, 'JD-900006'));
    const row = await eventually('delivered to DingTalk', async () => {
      const l = await log(o);
      return l[0]?.status === 'delivered' ? l[0] : undefined;
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}; log: ${JSON.stringify(await log(o))}; dingtalk: ${JSON.stringify(dingtalk.records)}`);
    });
    expect(row).toMatchObject({ channel: 'dingtalk', recipientKind: 'staff', recipientMasked: '赵磊', template: 'approval_step_reminder' });
    expect(dingtalk.accepted().filter((r) => typeof r.text === 'string' && r.text.includes('JD-900006'))).toMatchObject([
      { robot: 'tok-approvals', title: '审批提醒：JD-900006', text: '#### 审批提醒\n订单 JD-900006 金额 ¥281.00 的「sales」环节仍在等待 赵磊 处理，截止 2026/12/04 18:00。' },
    ]);
    expect(dingtalk.refused()).toHaveLength(0);
  });

  it("tracking's SLA alerts: 'about to turn red' to customer service on DingTalk, 'breached' to the order's owner (the shop's owner), 'stuck' on DingTalk and e-mail, once each", async () => {
    const o = `o-${uniqueSuffix()}`;
    await publish(Topics.orderEvents, orderPlaced(o, `jd_cust_${uniqueSuffix()}`, 'JD-900008'));
    // As tracking publishes them (services/tracking/test/sla-alerts.int-spec.ts: its clock job and alert scan).
    const tracked = (type: string, position: number, data: Record<string, unknown>): EventEnvelope => ({
      ...envelope(type, o, position, { channelOrderId: 'JD-900008', shopId: 'jd-shop', stage: 'paid', ...data }),
      streamId: `tracking-${o}`,
      actor: { kind: 'service', id: 'tracking', name: 'tracking' },
    });
    const yellow = tracked('OrderSlaTurnedYellow', 0, { segment: 'paid_to_ready', slaStartedAt: '2026-12-04T02:00:00.000Z', slaYellowAt: '2026-12-04T03:36:00.000Z', slaDueAt: '2026-12-04T04:00:00.000Z', detectedAt: '2026-12-04T03:36:00.000Z' });
    const red = tracked('OrderSlaTurnedRed', 1, { segment: 'paid_to_ready', slaStartedAt: '2026-12-04T02:00:00.000Z', slaYellowAt: '2026-12-04T03:36:00.000Z', slaDueAt: '2026-12-04T04:00:00.000Z', detectedAt: '2026-12-04T04:00:01.000Z' });
    const stuck = tracked('OrderStuck', 2, { stageEnteredAt: '2026-12-04T02:00:00.000Z', stuckAt: '2026-12-05T02:00:00.000Z', detectedAt: '2026-12-05T02:00:00.000Z' });
    // Redelivered: still one message per (event, recipient, template, channel).
    await publish(Topics.trackingEvents, yellow, red, stuck, yellow);
    const rows = await eventually('four staff messages sent', async () => {
      const l = await log(o);
      return l.length === 4 && l.every((n) => n.status === 'delivered' || n.status === 'sent') ? l : undefined;
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}; log: ${JSON.stringify(await log(o))}`);
    });
    expect(rows.map((n) => `${n.template}/${n.channel}/${n.recipientMasked}`).sort()).toEqual(['sla_about_to_turn_red/dingtalk/王芳', 'sla_breached/dingtalk/赵磊', 'stuck_order/dingtalk/王芳', 'stuck_order/email/王芳']);
    expect(dingtalk.accepted().filter((r) => typeof r.text === 'string' && r.text.includes('JD-900008')).sort((a, b) => String(a.title).localeCompare(String(b.title), 'en'))).toMatchObject([
      { robot: 'tok-approvals', title: 'SLA 即将超时：JD-900008', text: '#### SLA 即将超时\n订单 JD-900008（paid）将在 2026/12/04 12:00 超出「paid_to_ready」时限，请尽快处理。' },
      { robot: 'tok-approvals', title: 'SLA 已超时：JD-900008', text: '#### SLA 已超时\n赵磊，您负责的订单 JD-900008（paid）已于 2026/12/04 12:00 超出「paid_to_ready」时限。' },
      { robot: 'tok-approvals', title: '订单停滞：JD-900008' },
    ]);
    const mails = await eventually('the stuck-order e-mail', async () => {
      const m = smtp.inbox.accepted().filter((r) => r.subject === '订单停滞：JD-900008');
      return m.length > 0 ? m : undefined;
    });
    expect(mails).toMatchObject([{ to: ['cs-wang@flowline.example'] }]);
  });

  it('staff preference API (REST and gRPC): a stored channel choice (Idempotency-Key / request_id) overrides staff.yaml for the planner; cleared, the YAML applies again', async () => {
    const put = async (body: unknown, key?: string, instance = 0) => {
      const res = await fetch(`${procs[instance].httpUrl}/api/staff/cs/preferences`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as any };
    };
    expect((await api('GET', '/api/staff/cs/preferences')).json).toMatchObject({ staffId: 'cs', name: '王芳', channels: ['dingtalk', 'email'], available: ['dingtalk', 'email'], source: 'yaml' });
    const key = `pref-${uniqueSuffix()}`;
    const first = await put({ channels: ['email'] }, key);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({ channels: ['email'], source: 'api' });
    // The same request again (on the other instance): the stored reply; the same key with another body: refused.
    expect(await put({ channels: ['email'] }, key, 1)).toEqual(first);
    expect((await put({ channels: ['dingtalk'] }, key)).json.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Bad input names the field; a channel staff.yaml gives no address for is a 422 with a stable code; an unknown person 404.
    const bad = await put({ channels: ['fax'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('channels');
    const wecom = await put({ channels: ['wecom'] });
    expect([wecom.status, wecom.json.code]).toEqual([422, 'CHANNEL_NOT_AVAILABLE']);
    expect((await api('GET', '/api/staff/u-nobody/preferences')).status).toBe(404);
    // Staff change only their own choice (the token's subject), an admin anyone's (issue #16): another
    // customer-service person is refused; the same person under its own subject is let through.
    const asPerson = async (id: string, method: 'PUT' | 'DELETE') =>
      (await fetch(`${procs[0].httpUrl}/api/staff/cs/preferences`, { method, headers: { ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}), ...(await personaHeader(id, 'customer_service')) }, ...(method === 'PUT' ? { body: JSON.stringify({ channels: ['email'] }) } : {}) })).status;
    expect(await asPerson('u-cs-li', 'PUT')).toBe(403);
    expect(await asPerson('u-cs-li', 'DELETE')).toBe(403);
    expect(await asPerson('cs', 'PUT')).toBe(200);

    // The planner uses the stored choice: the stuck-order alert goes to 王芳 by e-mail only.
    const o = `o-${uniqueSuffix()}`;
    await publish(Topics.orderEvents, orderPlaced(o, `jd_cust_${uniqueSuffix()}`, 'JD-900009'));
    await new Promise((r) => setTimeout(r, 500));
    await publish(Topics.trackingEvents, { ...envelope('OrderStuck', o, 0, { channelOrderId: 'JD-900009', shopId: 'jd-shop', stage: 'paid', stageEnteredAt: '2026-12-04T02:00:00.000Z', stuckAt: '2026-12-05T02:00:00.000Z', detectedAt: '2026-12-05T02:00:00.000Z' }), streamId: `tracking-${o}` });
    const rows = await eventually('the stuck-order e-mail sent', async () => {
      const l = await log(o);
      return l.length > 0 && l.every((n) => n.status === 'sent' || n.status === 'delivered') ? l : undefined;
    });
    expect(rows.map((n) => `${n.template}/${n.channel}/${n.recipientMasked}`)).toEqual(['stuck_order/email/王芳']);

    const cleared = await api('DELETE', '/api/staff/cs/preferences');
    expect(cleared.json).toMatchObject({ channels: ['dingtalk', 'email'], source: 'yaml' });

    // The same over gRPC: request_id makes a retry safe; bad channels are INVALID_ARGUMENT, an unknown person NOT_FOUND.
    const client = grpcClient(procs[1].grpcAddress, 'notification/v1/notification.proto', 'flowline.notification.v1.NotificationService');
    try {
      const requestId = `grpc-pref-${uniqueSuffix()}`;
      const set = await unary<{ preference: { channels: string[]; source: string; available: string[] } }>(client, 'SetStaffPreference', { staffId: 'gm', channels: ['email'], requestId });
      expect(set.preference).toMatchObject({ channels: ['email'], available: ['dingtalk', 'email'], source: 'api' });
      expect(await unary(client, 'SetStaffPreference', { staffId: 'gm', channels: ['email'], requestId })).toEqual(set);
      expect((await unary<{ preference: { channels: string[] } }>(client, 'GetStaffPreference', { staffId: 'gm' })).preference.channels).toEqual(['email']);
      await expect(unary(client, 'SetStaffPreference', { staffId: 'gm', channels: ['pager'] })).rejects.toMatchObject({ code: 3 });
      await expect(unary(client, 'GetStaffPreference', { staffId: 'u-nobody' })).rejects.toMatchObject({ code: 5 });
      const back = await unary<{ preference: { channels: string[]; source: string } }>(client, 'SetStaffPreference', { staffId: 'gm', clear: true });
      expect(back.preference).toMatchObject({ channels: ['dingtalk', 'email'], source: 'yaml' });
    } finally {
      client.close();
    }
  });

  it('a receiver that keeps failing is dead-lettered with the reason after the retry budget; the other channel still delivers', async () => {
    const o = `o-${uniqueSuffix()}`;
    await fetch(`${webhook.url}/__control/fail`, { method: 'POST', body: JSON.stringify({ count: 100, status: 503, json: { error: 'down' } }) });
    try {
      await publish(Topics.orderEvents, orderPlaced(o, `jd_cust_${uniqueSuffix()}`, 'JD-900007'), envelope('OrderStockShortage', o, 1, { missing: [{ sku: 'TEA-LJ-250', requested: 2, available: 0 }] }));
      const rows = await eventually('webhook dead, wecom delivered', async () => {
        const l = await log(o);
        const hook = l.find((n) => n.channel === 'webhook');
        return hook?.status === 'dead' && l.find((n) => n.channel === 'wecom')?.status === 'delivered' ? l : undefined;
      });
      expect(rows.find((n) => n.channel === 'webhook')).toMatchObject({ status: 'dead', lastCode: 'HTTP_503', attempts: 5, recipientMasked: '李强' });
      expect(wecom.accepted().filter((r) => String(r.text).includes('JD-900007'))).toMatchObject([{ text: '**库存不足**\n订单 JD-900007 库存不足：TEA-LJ-250 2/0' }]);
      // Both instances' /metrics together count the dead letter once and the 4 retries before it.
      const count = async (outcome: string) => {
        let total = 0;
        for (const p of procs) {
          const text = await (await fetch(`${p.httpUrl}/metrics`)).text();
          const m = new RegExp(`^flowline_notification_attempts_total\\{channel="webhook",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
          total += m ? Number(m[1]) : 0;
        }
        return total;
      };
      expect(await count('dead')).toBe(1);
      expect(await count('retry')).toBe(4);
    } finally {
      await fetch(`${webhook.url}/__inbox`, { method: 'DELETE' });
    }
  });

  it('the demo inbox lists what each fake received and refused (JSON and a page)', async () => {
    const r = await api('GET', '/demo/inbox');
    const byName = Object.fromEntries((r.json.fakes as { name: string; received: unknown[]; refused: unknown[] }[]).map((f) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual(['aliyun-sms', 'dingtalk', 'smtp', 'wechat']);
    expect(byName['aliyun-sms'].received.length).toBe(sms.accepted().length);
    expect(byName.wechat.refused.length).toBe(wechat.refused().length);
    const page = await fetch(`${procs[1].httpUrl}/demo/inbox.html`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('【Flowline】您的订单JD-900001已发货，顺丰速运运单号SF1402837465012，请留意查收。');
  });
});
