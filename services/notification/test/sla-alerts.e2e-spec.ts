import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeHttpServer } from './fakes/fake-http';
import { dingtalkFake } from './fakes/robots.fake-server';
import { startSmtpSink, type SmtpSink } from './fakes/smtp.fake-server';

/*
 * Tracking and notification as separate processes on one topic prefix, real Kafka + PostgreSQL:
 * an order placed and paid, then left alone, turns yellow, red and stuck in tracking (its SLA
 * budgets shortened to seconds, the clock job ticking every 300 ms, as in tracking's own e2e);
 * tracking publishes each transition once on tracking.events.v1 and notification tells
 * customer service (about to turn red, stuck) and the order's owner (breached, the shop's owner
 * from staff.yaml) on the signed DingTalk robot, each message once though the clock keeps ticking.
 */
const ulid = monotonicFactory();
const prefix = testTopicPrefix();
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'notification-sla-e2e' });
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const procs: ServiceProcess[] = [];
let dingtalk: FakeHttpServer;
let smtp: SmtpSink;
let publisher: EventPublisher;
const fixture = (type: string) => JSON.parse(readFileSync(resolve(__dirname, `../../../libs/contracts/fixtures/orders/${type}.v1.json`), 'utf8')) as EventEnvelope<Record<string, any>>;

beforeAll(async () => {
  dingtalk = await dingtalkFake({ robots: { 'tok-sla': 'SECsla' } }).start();
  smtp = await startSmtpSink({ user: 'flowline', pass: 'smtp-secret' });
  const [ndb, tdb] = await Promise.all([createTestDatabase('notification_sla_e2e'), createTestDatabase('notification_sla_e2e_tracking')]);
  dbs.push(ndb, tdb);
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '2', LOG_LEVEL: 'warn' };
  const [n, t] = await Promise.all([
    startServiceProcess({
      service: 'notification',
      env: {
        ...common,
        DATABASE_URL: ndb.url,
        NOTIFICATION_CONSUMER_GROUP: `notification-sla-${uniqueSuffix()}`,
        NOTIFICATION_FROM_BEGINNING: '1',
        NOTIFICATION_DISPATCH_INTERVAL_MS: '100',
        DINGTALK_ROBOT_URL: `${dingtalk.url}/robot/send?access_token=tok-sla`,
        DINGTALK_ROBOT_SECRET: 'SECsla',
        SMTP_URL: smtp.smtpUrl(),
      },
      readyTimeoutMs: 150_000,
    }),
    startServiceProcess({
      service: 'tracking',
      env: { ...common, DATABASE_URL: tdb.url, TRACKING_CONSUMER_GROUP: `tracking-sla-${uniqueSuffix()}`, TRACKING_SLA_PAID_TO_READY: '5s', TRACKING_STUCK_AFTER: '10s', TRACKING_CLOCK_INTERVAL: '300ms' },
      readyTimeoutMs: 150_000,
    }),
  ]);
  procs.push(n, t);
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
}, 240_000);

afterAll(async () => {
  await publisher?.disconnect().catch(() => undefined);
  await Promise.all(procs.map((p) => p.stop('SIGTERM', 15_000)));
  await dingtalk?.close();
  await smtp?.close();
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('SLA alerts from tracking to staff (separate processes)', () => {
  it('an order left in paid: about to turn red and stuck to customer service, breached to the shop owner, each once', async () => {
    const orderId = `o-sla-${uniqueSuffix()}`;
    const channelOrderId = `TB${Date.now()}`;
    const now = new Date().toISOString();
    const placed = fixture('OrderPlaced');
    const paid = fixture('OrderPaid');
    const events: EventEnvelope[] = [
      { ...placed, eventId: ulid(), streamId: `order-${orderId}`, occurredAt: now, data: { ...placed.data, orderId, channelOrderId, placedAt: now } },
      { ...paid, eventId: ulid(), streamId: `order-${orderId}`, occurredAt: now, data: { ...paid.data, orderId, paidAt: now } },
    ];
    for (const e of events) await publisher.publish([{ topic: Topics.orderEvents, key: orderId, envelope: e }]);

    const mine = () => dingtalk.accepted().filter((r) => typeof r.title === 'string' && r.title.includes(channelOrderId));
    const until = Date.now() + 90_000;
    while (mine().length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    // A few more clock ticks and scans: nothing more may come.
    await new Promise((r) => setTimeout(r, 2_000));
    const titles = mine().map((r) => String(r.title)).sort();
    expect(titles, JSON.stringify(dingtalk.records.slice(-5))).toEqual([`SLA 即将超时：${channelOrderId}`, `SLA 已超时：${channelOrderId}`, `订单停滞：${channelOrderId}`].sort());
    expect(mine().find((r) => String(r.title).startsWith('SLA 已超时'))?.text).toContain('赵磊，您负责的订单');
    expect(dingtalk.refused()).toHaveLength(0);
    const log = (await (await fetch(`${procs[0].httpUrl}/api/orders/${orderId}/notifications`)).json()) as { notifications: { template: string; channel: string; recipientMasked: string; recipientKind: string }[] };
    // (The customer's order_paid messages are there too, suppressed: no address registered.)
    expect(log.notifications.filter((n) => n.recipientKind === 'staff').map((n) => `${n.template}/${n.channel}/${n.recipientMasked}`).sort()).toEqual(['sla_about_to_turn_red/dingtalk/王芳', 'sla_breached/dingtalk/赵磊', 'stuck_order/dingtalk/王芳', 'stuck_order/email/王芳']);
  }, 150_000);
});
