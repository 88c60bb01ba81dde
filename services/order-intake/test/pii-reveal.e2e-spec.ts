import { startServiceProcess, type RunningService, type ServiceProcess } from '@flowline/platform';
import { anOrderSubmission, authHeader, createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrderIntake } from './support/order-intake-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Json = Record<string, any>;

/*
 * Audited PII reveal (issues #16, #17) over REST with tokens from the run's issuer: order-intake in
 * this process (relay on, real PostgreSQL and Kafka), tracking as its own process on the same topic
 * prefix, so the reveal is checked end to end in the audit query (GET /api/audit per order and per
 * actor). Field rules: warehouse and finance may not reveal (403), customer service may; out of the
 * caller's shops is 404; the answer has the phone in clear, the order view stays masked.
 */
describe('POST /api/orders/{orderId}/pii-reveals: audited reveal of the masked personal fields', () => {
  const prefix = testTopicPrefix();
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  let intake: RunningService;
  let tracking: ServiceProcess;

  async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : null };
  }

  beforeAll(async () => {
    // The per-person reveal limit (read per request by the in-process service): 3 an hour here.
    process.env.ORDER_PII_REVEALS_PER_HOUR = '3';
    const [intakeDb, trackingDb] = await Promise.all([createTestDatabase('order_intake_pii'), createTestDatabase('tracking_pii')]);
    dbs.push(intakeDb, trackingDb);
    [intake, tracking] = await Promise.all([
      startOrderIntake({ databaseUrl: intakeDb.url, topicPrefix: prefix, processManager: false, relay: true }),
      startServiceProcess({
        service: 'tracking',
        env: { DATABASE_URL: trackingDb.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', TRACKING_CONSUMER_GROUP: `tracking-pii-${uniqueSuffix()}` },
        readyTimeoutMs: 120_000,
      }),
    ]);
  }, 180_000);

  afterAll(async () => {
    delete process.env.ORDER_PII_REVEALS_PER_HOUR;
    await tracking?.stop();
    await intake?.close();
    for (const db of dbs) await db.drop();
  });

  it('warehouse and finance 403, out of scope 404, customer service 201 with the values; recorded with the token subject and shown by the audit query', async () => {
    const submission = anOrderSubmission({ channel: 'jd', shopId: 'jd-flagship', channelOrderId: `JD-PII-${uniqueSuffix()}` });
    const placed = await call(intake.httpUrl, 'POST', '/api/orders', { ...(await authHeader('admin')), 'idempotency-key': `pii-${uniqueSuffix()}` }, submission);
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const orderId = String(placed.json?.orderId);
    const path = `/api/orders/${orderId}/pii-reveals`;
    const body = { reason: '顾客来电核对收货地址' };

    // Field rules: the ability is customer service's (and admin's) only.
    for (const role of ['warehouse', 'finance'] as const) {
      const refused = await call(intake.httpUrl, 'POST', path, await authHeader(role), body);
      expect(refused.status, role).toBe(403);
    }
    // A Taobao-shop customer-service person: the JD order does not exist for them.
    const foreign = await call(intake.httpUrl, 'POST', path, await authHeader('customer_service', { user: 'cs-taobao' }), body);
    expect(foreign.status).toBe(404);
    expect(foreign.json).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    // A reason is required.
    const noReason = await call(intake.httpUrl, 'POST', path, await authHeader('customer_service'), {});
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(noReason.json?.errors)).toContain('reason');

    const before = await call(intake.httpUrl, 'GET', `/api/orders/${orderId}`, await authHeader('customer_service'));
    const revealed = await call(intake.httpUrl, 'POST', path, await authHeader('customer_service'), body);
    expect(revealed.status, JSON.stringify(revealed.json)).toBe(201);
    expect(revealed.json).toMatchObject({
      orderId,
      fields: ['customer.name', 'customer.phone', 'shippingAddress.recipient', 'shippingAddress.phone', 'shippingAddress.street'],
      customer: { name: submission.customer.name, phone: submission.customer.phone },
      shippingAddress: { recipient: submission.shippingAddress.recipient, phone: submission.shippingAddress.phone, street: submission.shippingAddress.street },
      revision: Number(before.json?.revision) + 1,
    });
    expect(submission.customer.phone).toMatch(/^1\d{10}$/);
    // The order view stays masked (the reveal moved the revision on).
    const after = await call(intake.httpUrl, 'GET', `/api/orders/${orderId}`, await authHeader('customer_service'));
    expect(after.json?.revision).toBe(Number(before.json?.revision) + 1);
    expect(JSON.stringify(after.json)).not.toContain(String(submission.customer.phone));

    // The audit trail (tracking, fed by orders.events.v1): per order (admin) and per actor (cs's own trail).
    const admin = await authHeader('admin');
    const deadline = Date.now() + 90_000;
    let entry: Json | undefined;
    while (!entry && Date.now() < deadline) {
      const audit = await call(tracking.httpUrl, 'GET', `/api/audit?orderId=${orderId}`, admin);
      entry = (audit.json?.items as Json[] | undefined)?.find((i) => i.type === 'OrderPiiRevealed');
      if (!entry) await new Promise((r) => setTimeout(r, 300));
    }
    expect(entry, 'OrderPiiRevealed in the audit trail').toBeDefined();
    expect(entry).toMatchObject({
      orderId,
      actor: { kind: 'user', id: 'cs', role: 'customer_service', clientId: 'flowline-cli' },
      what: { zh: expect.stringContaining('查看了完整个人信息（顾客来电核对收货地址）'), en: expect.stringMatching(/^PII revealed by Customer service .+ \(顾客来电核对收货地址\)$/) },
    });
    expect(JSON.stringify(entry)).not.toContain(String(submission.customer.phone));
    const mine = await call(tracking.httpUrl, 'GET', `/api/audit?actor=cs&orderId=${orderId}`, await authHeader('customer_service'));
    expect(mine.status).toBe(200);
    expect((mine.json?.items as Json[]).map((i) => i.type)).toContain('OrderPiiRevealed');

    // Rate limited per person (counted in PostgreSQL, shared by instances): cs has used 2 of 3 (the
    // 400 counted too); the 3rd goes through, the 4th is 429 with Retry-After; another person is not affected.
    expect((await call(intake.httpUrl, 'POST', path, await authHeader('customer_service'), body)).status).toBe(201);
    const limited = await fetch(`${intake.httpUrl}${path}`, { method: 'POST', headers: { ...(await authHeader('customer_service')), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(intake.httpUrl, 'POST', path, await authHeader('admin'), body)).status).toBe(201);
  }, 150_000);
});
