import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { anOrderSubmission, createTestDatabase, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliyunSmsFake } from './fakes/aliyun-sms.fake-server';
import type { FakeHttpServer } from './fakes/fake-http';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies asserted field by field
type Json = Record<string, any>;

const OTP_PER_IP = 9;

/**
 * The customer portal's identity (order-intake src/portal, sent through notification's
 * one-time-message endpoint; here beside the SMS fake it reads) against running services: two order-intake processes (one
 * database, one signing key), notification as a process sending through the Aliyun SMS fake, the
 * run's real OIDC issuer (svc-order-intake's client-credentials token for notification; the admin
 * token that places orders). Customer tokens are verified by order-intake like any token: its
 * PORTAL_ISSUER points here at a small front that forwards to the first instance's JWKS.
 */
describe('customer portal: one-time codes, customer tokens, shared limits', () => {
  let orderDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let notificationDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let sms: FakeHttpServer;
  let front: Server;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let notification: ServiceProcess;
  let keyDir: string;
  let otpRequests = 0;
  let seq = 0;

  beforeAll(async () => {
    [orderDb, notificationDb] = await Promise.all([createTestDatabase('portal_orders'), createTestDatabase('portal_notification')]);
    sms = await aliyunSmsFake({ keys: { LTAI_portal_test: 'portal-test-sms-secret' } }).start(0);
    keyDir = mkdtempSync(join(tmpdir(), 'flowline-portal-keys-'));
    let jwksFrom = '';
    front = createServer((req, res) => {
      fetch(`${jwksFrom}${req.url ?? '/'}`, { headers: { authorization: '' } })
        .then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const portalIssuer = `http://127.0.0.1:${(front.address() as AddressInfo).port}/portal`;
    const topicPrefix = testTopicPrefix();
    notification = await startServiceProcess({
      service: 'notification',
      readyTimeoutMs: 180_000,
      env: {
        DATABASE_URL: notificationDb.url,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        NOTIFICATION_CONSUME: '0',
        NOTIFICATION_RELAY: '0',
        ALIYUN_SMS_URL: `${sms.url}/`,
        ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI_portal_test',
        ALIYUN_SMS_ACCESS_KEY_SECRET: 'portal-test-sms-secret',
      },
    });
    const orderEnv = {
      DATABASE_URL: orderDb.url,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      ORDER_RELAY: '0',
      ORDER_PROCESS_MANAGER: '0',
      PORTAL_ISSUER: portalIssuer,
      PORTAL_KEY_DIR: keyDir,
      NOTIFICATION_URL: notification.httpUrl,
      PORTAL_OTP_PER_IP_PER_HOUR: String(OTP_PER_IP),
      PORTAL_OTP_MIN_RESPONSE_MS: '100',
      PORTAL_CANCELS_PER_HOUR: '2',
    };
    a = await startServiceProcess({ service: 'order-intake', env: orderEnv, readyTimeoutMs: 180_000 });
    jwksFrom = a.httpUrl;
    b = await startServiceProcess({ service: 'order-intake', env: orderEnv, readyTimeoutMs: 180_000 });
  }, 420_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), notification?.stop()]);
    await sms?.close();
    await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await orderDb?.drop();
    await notificationDb?.drop();
  });

  async function call(svc: ServiceProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${svc.httpUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Json) : null };
  }

  /** Places an order (admin token, the test setup's default) with this phone. */
  async function placeOrder(phone: string): Promise<{ orderId: string; channelOrderId: string }> {
    const channelOrderId = `JD-P${process.pid}${Date.now()}${++seq}`;
    const s = anOrderSubmission({ channelOrderId, customer: { channelCustomerId: `c-${seq}`, nickname: 'n', name: '李雷', phone, tags: [] } });
    const { customer, shippingAddress, ...rest } = s;
    const res = await call(a, 'POST', '/api/orders', { ...rest, customer, shippingAddress: { ...shippingAddress, phone } }, { 'idempotency-key': `portal-${channelOrderId}` });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return { orderId: res.json!.orderId as string, channelOrderId };
  }

  const anonymous = { authorization: '' };
  const requestCode = (svc: ServiceProcess, orderNo: string, phone: string) => {
    otpRequests++;
    return call(svc, 'POST', '/api/portal/otp', { orderNo, phone }, anonymous);
  };
  const openSession = (svc: ServiceProcess, orderNo: string, phone: string, code: string) => call(svc, 'POST', '/api/portal/session', { orderNo, phone, code }, anonymous);

  /** The SMS the fake received for this phone after `since` messages, once it has arrived. */
  async function smsTo(phone: string, since: number): Promise<{ code: string; link: string; text: string }> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = sms.accepted().filter((r) => r.phone === phone);
      if (got.length > since) {
        const text = String(got[got.length - 1].text);
        return { text, code: /(\d{6})/.exec(text)![1], link: /(https?:\/\/\S+)/.exec(text)![1] };
      }
      if (Date.now() > deadline) throw new Error(`no SMS to ${phone}; fake saw ${JSON.stringify(sms.records)}\n${a.output().slice(-3000)}\n${notification.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const smsCount = (phone: string) => sms.accepted().filter((r) => r.phone === phone).length;

  it('answers an unknown order, a wrong phone and the right phone the same, and texts only the right phone', async () => {
    const phone = '13900000001';
    const order = await placeOrder(phone);
    const unknown = await requestCode(a, 'JD-NO-SUCH-ORDER', phone);
    const wrongPhone = await requestCode(b, order.channelOrderId, '13900000099');
    const right = await requestCode(a, order.channelOrderId, phone);
    for (const r of [unknown, wrongPhone, right]) expect(r.status).toBe(202);
    expect(unknown.json).toEqual(right.json);
    expect(wrongPhone.json).toEqual(right.json);
    const message = await smsTo(phone, 0);
    expect(message.code).toMatch(/^\d{6}$/);
    expect(smsCount('13900000099')).toBe(0);
    // The code is nowhere but in the SMS: not in order-intake's tables or event log, not in notification's.
    const { Client } = await import('pg');
    for (const url of [orderDb.url, notificationDb.url]) {
      const db = new Client({ connectionString: url });
      await db.connect();
      try {
        const events = await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE data::text LIKE $1 OR metadata::text LIKE $1)::int AS leaked FROM eventstore.events`, [`%${message.code}%`]);
        expect(events.rows[0].leaked, url).toBe(0);
        if (url === orderDb.url) {
          expect(events.rows[0].n).toBeGreaterThan(0); // the order's own events are there: the query looked in the right place
          const otp = await db.query(`SELECT row_to_json(p)::text AS r FROM portal_otp p`);
          expect(otp.rows.length).toBeGreaterThan(0);
          expect(otp.rows.map((r: { r: string }) => r.r).join('\n')).not.toContain(message.code);
        } else {
          expect((await db.query(`SELECT count(*)::int AS n FROM notification.notification`)).rows[0].n).toBe(0);
        }
      } finally {
        await db.end();
      }
    }
  });

  it('locks after five wrong codes: the sixth try is refused even with the right code', async () => {
    const phone = '13900000002';
    const order = await placeOrder(phone);
    expect((await requestCode(a, order.channelOrderId, phone)).status).toBe(202);
    const { code } = await smsTo(phone, 0);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const r = await openSession(i % 2 ? a : b, order.channelOrderId, phone, wrong);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ code: 'PORTAL_CODE_INVALID' });
    }
    const sixth = await openSession(a, order.channelOrderId, phone, code);
    expect(sixth.status).toBe(401);
    expect(sixth.json).toMatchObject({ code: 'PORTAL_CODE_INVALID' });
    // A new code does not unlock it: no SMS goes out while locked, the answer is the same 202.
    expect((await requestCode(b, order.channelOrderId, phone)).status).toBe(202);
    expect(await openSession(b, order.channelOrderId, phone, code)).toMatchObject({ status: 401 });
    expect(smsCount(phone)).toBe(1);
  });

  it('gives a customer token that reads its own order and gets 404 for another', async () => {
    const phone = '13900000003';
    const mine = await placeOrder(phone);
    const other = await placeOrder('13900000004');
    expect((await requestCode(b, mine.channelOrderId, phone)).status).toBe(202);
    const { code, link } = await smsTo(phone, 0);
    const session = await openSession(a, mine.channelOrderId, phone, code);
    expect(session.status, JSON.stringify(session.json)).toBe(200);
    expect(session.json).toMatchObject({ token_type: 'Bearer', expires_in: 900, orders: [mine.orderId] });
    const token = session.json!.access_token as string;
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Json;
    expect(claims).toMatchObject({ roles: ['customer'], orders: [mine.orderId], aud: 'flowline' });
    expect(claims.sub).toMatch(/^cus_/);
    expect(JSON.stringify(claims)).not.toContain(phone);
    expect(claims.exp - claims.iat).toBe(900);
    // The code is single-use.
    expect((await openSession(b, mine.channelOrderId, phone, code)).status).toBe(401);

    const bearer = { authorization: `Bearer ${token}` };
    const own = await call(b, 'GET', `/api/orders/${mine.orderId}`, undefined, bearer);
    expect(own.status, JSON.stringify(own.json)).toBe(200);
    expect(own.json).toMatchObject({ orderId: mine.orderId });
    expect((await call(a, 'GET', `/api/orders/${other.orderId}`, undefined, bearer)).status).toBe(404);
    expect((await call(a, 'GET', `/api/orders/01JDGZ6M3V8Q4R5S6T7U8V9W0X`, undefined, bearer)).status).toBe(404);

    // The signed link from the same SMS opens the same customer's session.
    const viaLink = await call(b, 'POST', '/api/portal/session/link', { token: new URL(link).searchParams.get('t') }, anonymous);
    expect(viaLink.status, JSON.stringify(viaLink.json)).toBe(200);
    const linkClaims = JSON.parse(Buffer.from((viaLink.json!.access_token as string).split('.')[1], 'base64url').toString()) as Json;
    expect(linkClaims.sub).toBe(claims.sub);
    const tampered = `${new URL(link).searchParams.get('t')!.slice(0, -4)}AAAA`;
    expect((await call(a, 'POST', '/api/portal/session/link', { token: tampered }, anonymous)).status).toBe(401);

    // Per-customer cap on portal cancellations (2 an hour here), counted across both instances:
    // the first cancels, the second is refused by the order (already cancelled), the third by the cap.
    const cancel = (svc: ServiceProcess, n: number) => call(svc, 'POST', `/api/orders/${mine.orderId}/cancel`, { reason: '买家要求取消' }, { ...bearer, 'idempotency-key': `portal-cancel-${mine.orderId}-${n}` });
    const first = await cancel(a, 1);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect((await cancel(b, 2)).status).not.toBe(429);
    const capped = await cancel(a, 3);
    expect(capped.status).toBe(429);
    expect(capped.json).toMatchObject({ code: 'PORTAL_ACTION_CAP' });
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Staff are not capped by it.
    expect((await call(a, 'POST', `/api/orders/${other.orderId}/cancel`, { reason: 'x' }, { 'idempotency-key': `staff-cancel-${other.orderId}` })).status).toBe(200);

    // JWKS: one ES256 key, public only.
    const jwks = await call(a, 'GET', '/portal/.well-known/jwks.json', undefined, anonymous);
    expect(jwks.status).toBe(200);
    expect(jwks.json!.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256' })]);
    expect(jwks.json!.keys[0].d).toBeUndefined();
  });

  it('refuses bad input naming the fields, with the security headers on a running service', async () => {
    const live = await fetch(`${a.httpUrl}/health/live`);
    expect(live.headers.get('x-content-type-options')).toBe('nosniff');
    expect(live.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(live.headers.get('strict-transport-security')).toMatch(/max-age=/);
    const r = await call(a, 'POST', '/api/portal/otp', { orderNo: '', phone: 'abc' }, anonymous);
    expect(r.status).toBe(400);
    const fields = (r.json!.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['orderNo', 'phone']));
  });

  it('shares the per-IP code-request limit across both instances: 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < OTP_PER_IP + 2 && !refused; i++) {
      const r = await requestCode(i % 2 ? a : b, 'JD-NO-SUCH-ORDER', '13900000005');
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    expect(refused?.status, JSON.stringify(statuses)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 202)).toBe(true);
    // Every code request of this file counted, on either instance, plus the 400 above (the limit's
    // guard runs before validation): the refusal came exactly at hit limit + 1.
    expect(otpRequests + 1).toBe(OTP_PER_IP + 1);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused!.headers.get('content-type')).toContain('application/problem+json');
  });
});
