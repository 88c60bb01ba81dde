import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { authHeader, createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * Notification rules (rules.yaml) as versioned documents (issue #17, ADR 0021): two notification
 * processes on one database. Validate names each problem's path; the dry run lists the messages an
 * event would plan for an order notification has seen; a saved version is in force on the other
 * instance (its /api/notifications-config reports the new rules version) within its poll.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are asserted field by field
type Body = Record<string, any>;
const SHIPPED = readFileSync(resolve(__dirname, '../config/rules.yaml'), 'utf8');
const procs: ServiceProcess[] = [];
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const orderId = `o-${uniqueSuffix()}`;

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Body };
}

beforeAll(async () => {
  db = await createTestDatabase('notification_rules');
  const env = { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: testTopicPrefix(), NOTIFICATION_CONSUMER_GROUP: `notification-rules-${uniqueSuffix()}`, LOG_LEVEL: 'warn' };
  procs.push(await startServiceProcess({ service: 'notification', env, readyTimeoutMs: 180_000 }));
  procs.push(await startServiceProcess({ service: 'notification', env, readyTimeoutMs: 180_000 }));
  pool = new Pool({ connectionString: db.url, max: 2 });
  const facts = { orderId, channel: 'tmall', channelOrderId: 'TM-1', customerId: 'c-1', customerNameMasked: '张*', tags: [], grandTotal: 26000, currency: 'CNY', itemCount: 1, firstTitle: '明前龙井' };
  await pool.query(`INSERT INTO notification.order_facts (order_id, facts, updated_at) VALUES ($1, $2, now())`, [orderId, JSON.stringify(facts)]);
}, 300_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM').catch(() => undefined)));
  await pool?.end();
  await db?.drop();
}, 60_000);

describe('notification rules API (/api/rules/notifications)', () => {
  it('validates with paths, dry-runs the messages an event would plan, and a saved version is in force on both instances', async () => {
    const [a, b] = [procs[0].httpUrl, procs[1].httpUrl];
    const overview = await call(a, 'GET', '/api/rules/notifications', undefined, await authHeader('warehouse'));
    expect(overview.status).toBe(200);
    expect(overview.json.current).toMatchObject({ version: 1, author: 'file:rules.yaml', document: SHIPPED });

    const bad = await call(a, 'POST', '/api/rules/notifications/validate', { document: SHIPPED.replace('template: order_shipped', 'template: no_such_template') });
    expect(bad.status).toBe(422);
    expect(bad.json.details.problems).toEqual([expect.objectContaining({ path: '/rules/1', ruleId: 'customer-order-shipped' })]);

    const now = await call(a, 'POST', '/api/rules/notifications/dry-run', { event: 'OrderShipped', orderId }, await authHeader('customer_service'));
    expect(now.status, JSON.stringify(now.json)).toBe(200);
    expect((now.json.planned as Body[]).map((p) => `${p.ruleId}/${p.channel}`)).toEqual(['customer-order-shipped/wechat_template', 'customer-order-shipped/sms']);

    const edited = SHIPPED.replace(/^version: .*$/m, 'version: "2026-12-05.1"').replace(/(template: order_shipped\n {4}to: \{ audience: customer \}\n {4}channels: )\[wechat_template, sms\]/, '$1[wechat_template]');
    expect(edited).not.toBe(SHIPPED);
    const draft = await call(a, 'POST', '/api/rules/notifications/dry-run', { event: 'OrderShipped', orderId, document: edited });
    expect((draft.json.planned as Body[]).map((p) => `${p.ruleId}/${p.channel}`)).toEqual(['customer-order-shipped/wechat_template']);

    expect((await call(a, 'PUT', '/api/rules/notifications', { document: edited, reason: 'r', expectedVersion: 1 }, await authHeader('customer_service'))).status).toBe(403);
    const saved = await call(a, 'PUT', '/api/rules/notifications', { document: edited, reason: '发货只发微信', expectedVersion: 1 }, await authHeader('general_manager'));
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    expect(saved.json).toMatchObject({ version: 2, label: '2026-12-05.1' });
    expect((await call(a, 'PUT', '/api/rules/notifications', { document: edited.replace('2026-12-05.1', '2026-12-05.2'), reason: 'again', expectedVersion: 1 })).status).toBe(409);

    // Both instances' runtimes use it: their config reports the new rules version.
    for (const base of [a, b]) {
      const deadline = Date.now() + 15_000;
      let version = '';
      while (Date.now() < deadline && version !== '2026-12-05.1') {
        version = String((await call(base, 'GET', '/api/notifications-config')).json.rulesVersion);
        if (version !== '2026-12-05.1') await new Promise((r) => setTimeout(r, 250));
      }
      expect(version).toBe('2026-12-05.1');
    }
  }, 120_000);
});
