import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';
import { WebhookDispatcher } from '../src/infra/webhooks/webhook-dispatcher';

/*
 * What one delivered webhook costs the database (issue #10: round trips and commits per order).
 * A receiver that answers 204; 20 orders with two deliveries each (the second is due only after
 * the first was delivered, so two ticks). Every statement the dispatcher sends is counted.
 * Before: a claim, BEGIN, the attempt INSERT, the delivery UPDATE and COMMIT per delivery (5).
 * Now: deliveries claimed 16 per statement, the attempt and the delivery's state in one statement.
 */

const ORDERS = 20;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let receiver: Server;
const received: string[] = [];
const statements: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_webhook_statements');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await migrateFulfillment(pool);
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await pool.query(`INSERT INTO webhook_subscriptions (id, url, event_types, secret) VALUES ('sub-1', $1, '{order.ready_to_ship}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')`, [url]);
  for (let o = 0; o < ORDERS; o++) {
    for (const n of [1, 2]) {
      await pool.query(`INSERT INTO webhook_deliveries (id, subscription_id, order_id, event_id, event_type, payload) VALUES ($1, 'sub-1', $2, $3, 'order.ready_to_ship', '{}')`, [
        `d-${o}-${n}`,
        `order-${o}`,
        `e-${o}-${n}`,
      ]);
    }
  }
}, 60_000);

afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await pool?.end();
  await db?.drop();
});

describe('webhook dispatcher: statements per delivered webhook (real PostgreSQL, real HTTP receiver)', () => {
  it('delivers every webhook once, in order per order, in at most 1.3 statements per delivery', async () => {
    const counted = new Proxy(pool, {
      get(target, prop, receiver_) {
        if (prop === 'query') {
          return (...args: Parameters<Pool['query']>) => {
            statements.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text));
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const v = Reflect.get(target, prop, receiver_) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const dispatcher = new WebhookDispatcher({ pool: counted, retry: { baseMs: 100, maxMs: 400, horizonMs: 3_600_000 }, timeoutMs: 5_000 });
    for (let tick = 0; tick < 10; tick++) {
      if ((await dispatcher.tick()) === 0) break;
      await dispatcher.drain();
    }

    expect(received).toHaveLength(ORDERS * 2);
    expect(new Set(received).size).toBe(ORDERS * 2);
    for (let o = 0; o < ORDERS; o++) expect(received.indexOf(`d-${o}-1`)).toBeLessThan(received.indexOf(`d-${o}-2`));
    const rows = await pool.query<{ status: string; attempts: number; tries: number; claimed: boolean }>(
      `SELECT d.status, d.attempts, (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS tries, d.claimed_until IS NOT NULL AS claimed FROM webhook_deliveries d`,
    );
    expect(rows.rows).toHaveLength(ORDERS * 2);
    for (const r of rows.rows) expect(r).toEqual({ status: 'delivered', attempts: 1, tries: 1, claimed: false });

    // 3 tick SELECTs + 2 lanes x (subscription SELECT + 2 chunk claims) + 40 result writes = 49.
    const perDelivery = statements.length / (ORDERS * 2);
    console.log(`webhook dispatcher: ${statements.length} statements for ${ORDERS * 2} deliveries (${perDelivery.toFixed(2)} per delivery)`);
    expect(statements.filter((s) => /^\s*(BEGIN|COMMIT)/i.test(s))).toEqual([]);
    expect(perDelivery).toBeLessThanOrEqual(1.3);
  });
});
