import type { EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool, type PoolClient } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/application/clock';
import { Dispatcher } from '../src/application/dispatcher';
import { NotificationIntake } from '../src/application/notification-intake';
import type { ChannelAdapter } from '../src/infra/channels/channel.port';
import { loadNotificationConfig } from '../src/infra/notification-config';
import { migrateNotification } from '../src/infra/notification-store';

/*
 * What the notification intake costs per placed-paid-shipped-delivered order in database
 * statements (issue #10), counted on the transaction's client against the real PostgreSQL (not
 * timed): facts written and read back in one statement, with the contact and opt-outs of the
 * customer they name when a customer rule reacts to the event,
 * an event's notifications inserted in one, staff preferences read only when staff are told.
 * BEGIN / inbox claim / COMMIT come on top: 3 per event in the consumer's per-message mode, 3 per
 * chunk in its chunk mode (notification-runtime.ts runs `batch: { maxMessages: 100 }`).
 */

const ulid = monotonicFactory();
const config = loadNotificationConfig();
const ORDERS = 10;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let events: PostgresEventStore;

const placed = JSON.parse(readFileSync(resolve(__dirname, '../../../libs/contracts/fixtures/orders/OrderPlaced.v1.json'), 'utf8')) as EventEnvelope<Record<string, unknown> & { customer: Record<string, unknown> }>;
const env = (type: string, orderId: string, data: Record<string, unknown>): EventEnvelope => ({ eventId: ulid(), type, schemaVersion: 1, streamId: `order-${orderId}`, streamPosition: 0, occurredAt: '2026-12-04T04:00:00.000Z', correlationId: 'c', causationId: null, data: { orderId, ...data } });

/** Runs `fn` in a transaction on a client whose statements are counted (BEGIN and COMMIT not included). */
async function counted(fn: (client: PoolClient) => Promise<unknown>): Promise<number> {
  const client = await pool.connect();
  let n = 0;
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  try {
    await client.query('BEGIN');
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      n++;
      return original(...args);
    };
    await fn(client);
    (client as unknown as { query: unknown }).query = original;
    await client.query('COMMIT');
    return n;
  } catch (e) {
    (client as unknown as { query: unknown }).query = original;
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('notification_round_trips');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await migrateNotification(pool);
  events = await PostgresEventStore.create({ pool });
});

afterAll(async () => {
  await events?.close();
  await pool?.end();
  await db?.drop();
});

describe('notification intake statements per order (real PostgreSQL)', () => {
  it('counts the statements of placed, paid, shipped and delivered; a redelivery creates nothing', async () => {
    const intake = new NotificationIntake({ config: () => config, events, clock: { now: async () => '2026-12-04T04:00:00.000Z', driven: false }, newId: () => ulid() });
    let statements = 0;
    let eventsApplied = 0;
    for (let i = 0; i < ORDERS; i++) {
      const orderId = `o-${ulid()}`;
      const customer = `c-${ulid()}`;
      // Every 3rd customer has opted out of SMS; every 5th has no contact at all.
      if (i % 5 !== 0) await pool.query(`INSERT INTO notification.customer_contact (customer_id, phone, wechat_openid) VALUES ($1, '13800001234', 'oRound0001')`, [customer]);
      if (i % 3 === 0) await pool.query(`INSERT INTO notification.opt_out (customer_id, channel, source, opted_out_at) VALUES ($1, 'sms', 'api', now())`, [customer]);
      const order = [
        env('OrderPlaced', orderId, { ...placed.data, orderId, customer: { ...placed.data.customer, channelCustomerId: customer } }),
        env('OrderPaid', orderId, { amount: 100, currency: 'CNY', paidAt: '2026-12-04T04:00:00.000Z' }),
        env('OrderShipped', orderId, { carrier: 'SF', trackingNumber: `SF${i}`, shippedAt: '2026-12-04T05:00:00.000Z' }),
        env('OrderDelivered', orderId, { deliveredAt: '2026-12-05T05:00:00.000Z' }),
      ];
      for (const e of order) {
        statements += await counted((c) => intake.apply(e, c));
        eventsApplied++;
      }
      // Redelivered without the inbox: the dedup key keeps every notification single.
      for (const e of order) await counted((c) => intake.apply(e, c));
      const rows = await pool.query(`SELECT trigger_event_type, channel, status, last_code FROM notification.notification WHERE order_id = $1 ORDER BY trigger_event_type, channel`, [orderId]);
      const paid = rows.rows.filter((r) => r.trigger_event_type === 'OrderPaid' && r.channel === 'sms');
      expect(paid).toHaveLength(1);
      if (i % 5 === 0) expect(paid[0]).toMatchObject({ status: 'suppressed', last_code: 'no_address' });
      else if (i % 3 === 0) expect(paid[0]).toMatchObject({ status: 'suppressed', last_code: 'opted_out' });
      else expect(paid[0].status).toMatch(/queued|held/);
      const keys = rows.rows.map((r) => `${r.trigger_event_type}|${r.channel}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    const perOrder = statements / ORDERS;
    console.log(`notification intake statements per order (4 events): ${perOrder.toFixed(2)}; + per-message transactions 3 x ${eventsApplied / ORDERS} = ${(3 * eventsApplied) / ORDERS}, or 3 per chunk in chunk mode`);
    // Placed: its facts (1). Paid, shipped, delivered: facts with the customer's contact (1), the
    // notifications (1), the suppressed ones' events when there are (1).
    expect(perOrder).toBeLessThanOrEqual(8.5);
  }, 120_000);

  it('counts the statements the dispatcher spends per notification sent', async () => {
    // The port's contract only (the real adapters are tested against scripts/fakes in channel-adapters.int-spec).
    const accept = (channel: 'sms' | 'wechat_template'): ChannelAdapter => ({ channel, send: async () => ({ ok: true, providerMessageId: `m-${ulid()}` }) });
    let n = 0;
    const countedPool = new Proxy(pool, {
      get(target, prop, receiver) {
        if (prop === 'query') return (...args: unknown[]) => (n++, (target.query as (...a: unknown[]) => unknown)(...args));
        if (prop === 'connect')
          return async () => {
            const client = await target.connect();
            const original = client.query.bind(client) as (...a: unknown[]) => unknown;
            (client as unknown as { query: unknown }).query = (...args: unknown[]) => (n++, original(...args));
            const release = client.release.bind(client);
            client.release = (err?: Error | boolean) => {
              (client as unknown as { query: unknown }).query = original;
              return release(err);
            };
            return client;
          };
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const dispatcher = new Dispatcher({ pool: countedPool, events, adapters: { sms: accept('sms'), wechat_template: accept('wechat_template') }, clock: systemClock, retry: { maxAttempts: 3, initialMs: 100, maxMs: 100 }, newId: () => ulid(), config: () => config, batchSize: 50 });
    let sent = 0;
    let ticks = 1;
    for (let handled = await dispatcher.tick(); handled > 0; handled = await dispatcher.tick(), ticks++) sent += handled;
    const rows = await pool.query(`SELECT count(*)::int AS c FROM notification.notification WHERE status IN ('sent', 'delivered')`);
    expect(rows.rows[0].c).toBe(sent);
    expect(sent).toBeGreaterThan(0);
    console.log(`notification dispatcher statements per notification sent: ${(n / sent).toFixed(2)} (${sent} sent in ${ticks} ticks, ${n} statements)`);
    // Per tick, whatever its batch: the lease, BEGIN, every attempt row and status, every event, COMMIT.
    expect(n).toBeLessThanOrEqual(5 * ticks);
  }, 120_000);
});
