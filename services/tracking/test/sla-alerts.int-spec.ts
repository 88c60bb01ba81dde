import 'reflect-metadata';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveProjector } from '../src/application/live-projector';
import { SlaClockJob } from '../src/application/sla-clock.job';
import { ManualClock } from '../src/infra/clock';
import { createSlaAlerts, type SlaAlertsHandle } from '../src/infra/sla-alert-publisher';
import { EventBuilder, placedData } from './fixtures/events';
import { eventually, testLogger, trackingHarness } from './fixtures/harness';

/*
 * Real Kafka + PostgreSQL, driven clock: an order placed and paid (projected from orders.events.v1)
 * is left in `paid`. The clock job moves it yellow (80% of the 2 h budget), red (past 2 h) and stuck
 * (24 h in the stage). Two alert publishers (two tracking replicas, one database) scan after every
 * tick, several times each: tracking.events.v1 carries OrderSlaTurnedYellow, OrderSlaTurnedRed and
 * OrderStuck exactly once each, keyed by the order.
 */
let h: Awaited<ReturnType<typeof trackingHarness>>;
const clock = new ManualClock('2026-03-02T01:00:00.000Z');
let projector: LiveProjector;
let replicas: SlaAlertsHandle[] = [];
const seen: EventEnvelope[] = [];
let consumer: ReturnType<typeof h.kafka.consumer>;
const orderId = 'ord-sla-1';

beforeAll(async () => {
  h = await trackingHarness('sla_alerts');
  consumer = h.kafka.consumer({ groupId: `sla-alerts-probe-${Date.now()}` });
  projector = new LiveProjector(h.dataSource, h.kafka, h.config, clock, testLogger);
  await projector.start();
  replicas = await Promise.all([0, 1].map(() => createSlaAlerts({ pool: h.pool, clock, logger: testLogger })));
  for (const r of replicas) await r.start(h.kafka, { intervalMs: 0, topicPrefix: h.prefix, partitions: 2 });
  await consumer.connect();
  await consumer.subscribe({ topic: `${h.prefix}${Topics.trackingEvents}`, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(JSON.parse(message.value?.toString() ?? '{}') as EventEnvelope) });
}, 120_000);

afterAll(async () => {
  await consumer?.disconnect().catch(() => undefined);
  for (const r of replicas) await r.stop().catch(() => undefined);
  await projector?.stop().catch(() => undefined);
  await h?.close();
});

describe('SLA alerts on tracking.events.v1', () => {
  it('publishes yellow, red and stuck once each across ticks and two replicas', async () => {
    const b = new EventBuilder('2026-03-02T01:00:00.000Z');
    const placed = b.event('OrderPlaced', placedData(orderId, {}, '2026-03-02T00:59:00.000Z'), { at: '2026-03-02T01:00:00.000Z' });
    const paid = b.event('OrderPaid', { orderId, amount: 27900, currency: 'CNY', paymentRef: `pay-${orderId}`, paidAt: '2026-03-02T01:00:00.000Z' }, { at: '2026-03-02T01:00:00.000Z' });
    await h.publish([placed, paid].map((e) => ({ topic: Topics.orderEvents, key: orderId, event: e })));
    const job = new SlaClockJob(h.dataSource, clock, 0);
    await eventually('the order projected in paid with its SLA clock', async () => {
      const rows: { sla_due_at: Date | null }[] = await h.dataSource.query(`SELECT "sla_due_at" FROM "tracking"."order_summary" WHERE "order_id" = $1 AND "stage" = 'paid'`, [orderId]);
      return rows[0]?.sla_due_at ? rows[0] : undefined;
    });

    const scanBoth = () => Promise.all(replicas.map((r) => r.publisher.scan()));
    // Green: nothing.
    await job.tick(new Date('2026-03-02T01:30:00.000Z'));
    expect((await scanBoth()).flatMap((s) => s.published)).toEqual([]);
    // Yellow (from 96 min), scanned twice by both replicas, then again at a later tick.
    for (const at of ['2026-03-02T02:40:00.000Z', '2026-03-02T02:50:00.000Z']) {
      await job.tick(new Date(at));
      await scanBoth();
      await scanBoth();
    }
    // Red, then stuck (24 h in paid).
    for (const at of ['2026-03-02T03:01:00.000Z', '2026-03-02T05:00:00.000Z', '2026-03-03T01:00:00.000Z', '2026-03-03T02:00:00.000Z']) {
      await job.tick(new Date(at));
      await scanBoth();
    }
    const rows: { event_type: string }[] = await h.dataSource.query(`SELECT "event_type" FROM "tracking_alerts"."sla_alert" WHERE "order_id" = $1 ORDER BY "published_at"`, [orderId]);
    expect(rows.map((r) => r.event_type)).toEqual(['OrderSlaTurnedYellow', 'OrderSlaTurnedRed', 'OrderStuck']);

    const mine = await eventually('three alerts on tracking.events.v1', async () => {
      const m = seen.filter((e) => (e.data as { orderId?: string }).orderId === orderId);
      return m.length >= 3 ? m : undefined;
    });
    // Give a duplicate the time to show up if one were on its way.
    await new Promise((r) => setTimeout(r, 1_500));
    const all = seen.filter((e) => (e.data as { orderId?: string }).orderId === orderId);
    expect(all.map((e) => e.type)).toEqual(['OrderSlaTurnedYellow', 'OrderSlaTurnedRed', 'OrderStuck']);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(3);
    expect(mine[0].data).toMatchObject({ orderId, stage: 'paid', segment: 'paid_to_ready', slaDueAt: '2026-03-02T03:00:00.000Z', detectedAt: '2026-03-02T02:40:00.000Z', channelOrderId: '3912345678901234567' });
    expect(mine[2].data).toMatchObject({ stage: 'paid', stuckAt: '2026-03-03T01:00:00.000Z', detectedAt: '2026-03-03T01:00:00.000Z' });
    expect(mine[0].actor).toMatchObject({ kind: 'service', id: 'tracking' });
  }, 120_000);
});
