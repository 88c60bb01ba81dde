import { anOrderSubmission, uniqueSuffix } from '@flowline/testing';
import { expect, it } from 'vitest';
import { browserTests, call, eventually, shot, startStack } from './harness';

/*
 * The audited PII reveal on the order page (issues #16, #17) in Debian's Chromium: order-intake and
 * tracking as their own processes behind the console BFF, staff logged in through the stack's OIDC
 * issuer. A customer-service user asks for the full data with a reason and sees the phone in clear;
 * the timeline then shows "<who> 查看了完整个人信息（<reason>）" from tracking (OrderPiiRevealed through
 * Kafka). A finance user gets no Reveal button (order-intake refuses finance with 403 as well).
 */

const ui = browserTests('console PII reveal browser test', {
  start: () =>
    startStack([
      ['order-intake', {}],
      ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-pii-console-${uniqueSuffix()}` }],
    ]),
});

ui.describe("the order page's audited PII reveal in Chromium", () => {
  it('a customer-service user reveals with a reason and sees the phone unmasked, then the timeline entry; finance has no Reveal button', async () => {
    const submission = anOrderSubmission({ channel: 'jd', shopId: 'jd-flagship', channelOrderId: `JD-PII-${uniqueSuffix()}`, placedAt: new Date().toISOString() });
    const placed = await call(ui.stack.procs['order-intake'].httpUrl, 'POST', '/api/orders', submission, { 'idempotency-key': `k-${uniqueSuffix()}` });
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const orderId = placed.json.orderId as string;
    const phone = String(submission.customer.phone);
    await eventually('the order in tracking', async () => ((await call(ui.stack.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`)).status === 200 ? true : undefined));

    const finance = await ui.browser.newPage('finance');
    await finance.goto(`${ui.stack.console.httpUrl}/orders/${orderId}`);
    await finance.waitForSelector('[data-testid="order-detail"]');
    expect(await finance.$('[data-testid="reveal-pii"]')).toBeNull();

    const page = await ui.browser.newPage('cs');
    await page.goto(`${ui.stack.console.httpUrl}/orders/${orderId}`);
    await page.waitForSelector('[data-testid="order-detail"]');
    const masked = await page.textContent('[data-testid="phone-masked"]');
    expect(masked).toMatch(/\*/);
    expect(masked).not.toContain(phone);
    expect(await page.textContent('[data-testid="reveal-pii"]')).toContain('显示完整信息');

    const reason = `顾客来电核对地址 ${uniqueSuffix()}`;
    await page.click('[data-testid="reveal-pii"]');
    await page.fill('[data-testid="reveal-reason"]', reason);
    await page.click('[data-testid="reveal-confirm"]');
    await page.waitForSelector('[data-testid="phone-revealed"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="phone-revealed"]')).toBe(phone);
    await page.waitForSelector('[data-testid="pii-revealed"]');

    // The timeline line arrives through Kafka and tracking; the page re-reads the timeline after the reveal.
    await page.waitForFunction((r) => (document.body.textContent ?? '').includes(`查看了完整个人信息（${r}）`), reason, { timeout: 30_000 });
    await shot(page, 'order-pii-revealed');
    // The order itself says who: the audit trail names the token's subject.
    const audit = await call(ui.stack.procs.tracking.httpUrl, 'GET', `/api/audit?orderId=${orderId}`);
    expect(audit.status).toBe(200);
    expect((audit.json.items as { type: string; actor: { id: string } | null }[]).find((i) => i.type === 'OrderPiiRevealed')?.actor?.id).toBe('cs');
  }, 240_000);
});

declare const document: { body: { textContent: string | null } };
