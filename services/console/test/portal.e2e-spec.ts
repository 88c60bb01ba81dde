import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anOrderSubmission } from '@flowline/testing';
import { expect, it } from 'vitest';
import { browserTests, call, eventually, placeAndPay as placeAndPayOrder, seriousA11yViolations, shot, startStack, uniqueSuffix } from './harness';

/*
 * The customer portal in Debian's Chromium (mobile viewport, zh-CN) over running services:
 * order-intake (its portal: one-time code, customer token), notification (sends the code through
 * its Aliyun SMS adapter to a sink the test reads, as a phone would), tracking (the timeline), the console BFF
 * (keeps the customer token behind its own httpOnly cookie), all trusting the stack's issuer and
 * order-intake's portal issuer. Order number + phone -> code by SMS -> the customer's own order
 * (stage in words, timeline); another customer's order is refused; the customer cancels their order.
 */

declare const document: { querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null; querySelectorAll(s: string): ArrayLike<unknown> };

let sms: SmsSink;

/**
 * What the customer's phone receives: an Aliyun SendSms endpoint that records the phone and the text
 * (TemplateParam.content) and answers OK. The request signing is checked by notification's own
 * tests against the full Aliyun fake; here only the message matters.
 */
interface SmsSink {
  url: string;
  accepted(): { phone: string; text: string }[];
  close(): Promise<void>;
}
async function startSmsSink(): Promise<SmsSink> {
  const got: { phone: string; text: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = new URLSearchParams(req.method === 'POST' ? body : (req.url ?? '').split('?')[1] ?? '');
      let text = '';
      try {
        text = String((JSON.parse(params.get('TemplateParam') ?? '{}') as { content?: unknown }).content ?? '');
      } catch {
        text = '';
      }
      got.push({ phone: params.get('PhoneNumbers') ?? '', text });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: `req-${got.length}`, BizId: `${got.length}^0`, Code: 'OK', Message: 'OK' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accepted: () => got, close: () => new Promise<void>((r) => server.close(() => r())) };
}
let front: Server;
let keyDir: string;

const ui = browserTests('console portal browser test', {
  start: async () => {
    sms = await startSmsSink();
    keyDir = mkdtempSync(join(tmpdir(), 'flowline-console-portal-keys-'));
    // The portal issuer's JWKS is order-intake's own; its URL must be known before order-intake starts.
    let target = '';
    front = createServer((req, res) => {
      fetch(`${target}${req.url ?? '/'}`, { headers: { authorization: '' } })
        .then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const PORTAL_ISSUER = `http://127.0.0.1:${(front.address() as AddressInfo).port}/portal`;
    const started = await startStack(
      [
        ['notification', { NOTIFICATION_CONSUME: '0', NOTIFICATION_RELAY: '0', ALIYUN_SMS_URL: `${sms.url}/`, ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI_console_portal', ALIYUN_SMS_ACCESS_KEY_SECRET: 'console-portal-sms-secret', PORTAL_ISSUER }],
        ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-portal-${uniqueSuffix()}`, PORTAL_ISSUER }],
      ],
      [['order-intake', (urls) => ({ NOTIFICATION_URL: urls.NOTIFICATION_URL!, PORTAL_ISSUER, PORTAL_KEY_DIR: keyDir, PORTAL_OTP_MIN_RESPONSE_MS: '50' })]],
    );
    target = started.procs['order-intake'].httpUrl;
    return started;
  },
  stop: async () => {
    await sms?.close();
    await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  },
});

async function placeAndPay(phone: string): Promise<{ orderId: string; channelOrderId: string }> {
  const channelOrderId = `JD-PORTAL-${uniqueSuffix()}`;
  const s = anOrderSubmission({ channel: 'jd', shopId: 'jd-flagship', channelOrderId, placedAt: new Date().toISOString(), customer: { channelCustomerId: `c-${channelOrderId}`, nickname: 'jd_顾客', name: '李雷', phone, tags: [] } });
  const orderId = await placeAndPayOrder(ui.stack, { ...s, shippingAddress: { ...s.shippingAddress, phone } });
  return { orderId, channelOrderId };
}

const smsTo = (phone: string) => sms.accepted().filter((r) => r.phone === phone);
const codeFor = (phone: string, nth: number) =>
  eventually(`SMS #${nth} to ${phone}`, async () => {
    const got = smsTo(phone);
    return got.length >= nth ? /(\d{6})/.exec(String(got[nth - 1]!.text))![1] : undefined;
  }, 60_000).catch((error: unknown) => {
    // What order-intake and notification said about it (the SMS goes out after the answer, so only their logs tell).
    const said = ['order-intake', 'notification'].map((name) => `---- ${name}\n${(ui.stack.procs[name]?.output() ?? '').split('\n').filter((l) => /portal|one-time|sms/i.test(l)).slice(-20).join('\n')}`);
    throw new Error(`${(error as Error).message}; SMS received: ${sms.accepted().length}\n${said.join('\n')}`);
  });

ui.describe('the customer portal in Chromium', () => {
  it("a customer proves the order with a one-time code, sees it in plain Chinese, is refused another customer's order, and cancels their own", async () => {
    const mine = await placeAndPay('13700001111');
    const theirs = await placeAndPay('13700002222');
    const page = await ui.browser.anonymousPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${ui.stack.console.httpUrl}/portal`);
    await page.fill('[data-testid="portal-order"]', mine.channelOrderId);
    await page.fill('[data-testid="portal-phone"]', '13700001111');
    await page.click('[data-testid="portal-send"]');
    await page.waitForSelector('[data-testid="portal-code-sent"]', { timeout: 30_000 });
    await page.fill('[data-testid="portal-code"]', await codeFor('13700001111', 1));
    await page.click('[data-testid="portal-verify"]');
    const card = await page.waitForSelector(`[data-testid="portal-order-${mine.orderId}"]`, { timeout: 30_000 });
    expect(await card.textContent()).toContain(mine.channelOrderId);
    expect(await page.$(`[data-testid="portal-order-${theirs.orderId}"]`)).toBeNull();
    // The stage in plain words and the timeline (tracking, read with the customer's token).
    const stage = await page.waitForSelector('[data-testid="portal-stage"]');
    // Paid and not yet reserved (this stack has no inventory): the stage in the portal's words.
    expect(await stage.getAttribute('data-stage')).toBe('paid');
    expect((await stage.textContent())?.trim()).toBe('已付款');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="portal-timeline"] .ant-timeline-item').length > 0, undefined, { timeout: 30_000 });
    // The customer token stays in the BFF: the page has only an httpOnly cookie.
    const portalCookie = (await page.context().cookies(ui.stack.console.httpUrl)).find((c) => c.name === 'flowline_portal');
    expect(portalCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await shot(page, 'portal');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Another customer's order: the services answer 404 to this customer's token, through the same BFF.
    const other = await page.evaluate(async (id) => (await fetch(`/api/order-intake/api/orders/${id}`, { headers: { 'x-flowline-portal': '1' } })).status, theirs.orderId);
    expect(other).toBe(404);
    // And asking with my phone for their order number sends no code, and no code opens it.
    await page.click('[data-testid="portal-logout"]');
    await page.fill('[data-testid="portal-order"]', theirs.channelOrderId);
    await page.fill('[data-testid="portal-phone"]', '13700001111');
    await page.click('[data-testid="portal-send"]');
    await page.waitForSelector('[data-testid="portal-code-sent"]', { timeout: 30_000 });
    await page.fill('[data-testid="portal-code"]', '000000');
    await page.click('[data-testid="portal-verify"]');
    const refusal = await page.waitForSelector('[data-testid="problem-alert"][data-code="PORTAL_CODE_INVALID"]', { timeout: 30_000 });
    expect(await refusal.textContent()).toContain('验证码错误或已过期');
    expect(smsTo('13700001111')).toHaveLength(1);
    expect(smsTo('13700002222')).toHaveLength(0);

    // Back to my order and cancel it: order-intake records the cancellation with the customer as actor.
    await page.reload();
    await page.fill('[data-testid="portal-order"]', mine.channelOrderId);
    await page.fill('[data-testid="portal-phone"]', '13700001111');
    await page.click('[data-testid="portal-send"]');
    await page.fill('[data-testid="portal-code"]', await codeFor('13700001111', 2));
    await page.click('[data-testid="portal-verify"]');
    await page.waitForSelector(`[data-testid="portal-order-${mine.orderId}"]`, { timeout: 30_000 });
    await page.click('[data-testid="portal-cancel"]');
    await page.fill('[data-testid="portal-reason"]', '不想要了');
    await page.click('[data-testid="portal-confirm"]');
    await page.waitForSelector('[data-testid="portal-stage"][data-stage="cancelled"]', { timeout: 30_000 });
    const after = await call(ui.stack.procs['order-intake'].httpUrl, 'GET', `/api/orders/${mine.orderId}`);
    expect(after.json.stage).toBe('cancelled');
    await page.close();
  }, 240_000);
});
