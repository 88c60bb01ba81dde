import { anOrderSubmission, grandTotalOf } from '@flowline/testing';
import type { TrackingOrderDetailView } from '@flowline/contracts';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserRequired,
  call,
  eventually,
  haveChromium,
  launchBrowser,
  seriousA11yViolations,
  shot,
  startStack,
  uniqueSuffix,
  type Browser,
  type Stack,
} from './harness';

/*
 * The staff console in Debian's Chromium over the real services (each its own process, real Kafka
 * and PostgreSQL) behind the console BFF (its own process): a customer-service user holds and
 * releases an order from its page and the live board (SSE through the BFF) recolours the card with
 * no reload; a stale If-Match is refused with the server's code in Chinese; axe-core finds no
 * serious violations. CONSOLE_SCREENSHOT_DIR=docs/img keeps the zh-CN screenshots.
 */

declare const document: { getElementById(id: string): { getAttribute(n: string): string | null } | null };
declare const window: Record<string, unknown>;

const SKIP_REASON = ' (skipped: /usr/bin/chromium not installed; apt-get install chromium fonts-wqy-microhei, as .ci/run does)';
if (!haveChromium && browserRequired) throw new Error('console browser tests: /usr/bin/chromium is missing (CI installs chromium + fonts-wqy-microhei via .ci/run)');

let stack: Stack;
let browser: Browser;
const CS = 'cs-wang';
const intake = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(stack.procs['order-intake'].httpUrl, method, path, body, { 'idempotency-key': `k-${uniqueSuffix()}`, ...headers });

async function placeAndPay(channelOrderId: string, quantity = 1): Promise<string> {
  const submission = anOrderSubmission({
    channel: 'jd',
    shopId: 'jd-flagship',
    channelOrderId,
    placedAt: new Date().toISOString(),
    lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '明前龙井 250g', quantity, unitPrice: 12800, lineDiscount: 0, category: 'tea' }],
  });
  const placed = await intake('POST', '/api/orders', submission);
  expect(placed.status, JSON.stringify(placed.json)).toBe(201);
  const orderId = placed.json.orderId as string;
  const paid = await intake('POST', `/api/orders/${orderId}/payments`, { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}` });
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
  return orderId;
}

async function tracked(orderId: string, until: (d: TrackingOrderDetailView) => boolean, what: string) {
  return eventually(what, async () => {
    const r = await call(stack.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    return r.status === 200 && until(r.json as TrackingOrderDetailView) ? (r.json as TrackingOrderDetailView) : undefined;
  });
}

const cardColour = (page: Page, orderId: string) => page.evaluate((id) => document.getElementById(`o-${id}`)?.getAttribute('data-colour') ?? null, orderId);

beforeAll(async () => {
  if (!haveChromium) return;
  stack = await startStack([
    ['inventory', { INVENTORY_CONSUMER_GROUP: `inventory-console-${uniqueSuffix()}` }],
    ['order-intake', {}],
    ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-console-${uniqueSuffix()}` }],
  ]);
  const inv = stack.procs.inventory.httpUrl;
  expect((await call(inv, 'PUT', '/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
  expect((await call(inv, 'PUT', '/api/stock/skus/TEA-LJ-250', { name: '明前龙井 250g' })).status).toBe(200);
  expect((await call(inv, 'POST', '/api/stock/receipts', { sku: 'TEA-LJ-250', warehouseId: 'WH-HZ-01', quantity: 100, reference: 'PO-CONSOLE' })).status).toBe(201);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 120_000);

describe.skipIf(!haveChromium)(`the staff console in Chromium${haveChromium ? '' : SKIP_REASON}`, () => {
  it('a customer-service user holds and releases an order; the live board recolours the card; a stale If-Match is refused in Chinese', async () => {
    const orderId = await placeAndPay(`JD-CON-${uniqueSuffix()}`);
    await tracked(orderId, (d) => d.order.sla.colour === 'green' && d.order.stage !== 'paid', 'the order green past paid');

    const board = await browser.newPage(CS);
    await board.goto(`${stack.console.httpUrl}/board`);
    await board.waitForSelector('#conn[data-state="live"]', { timeout: 30_000 });
    await board.waitForSelector(`#o-${orderId}[data-colour="green"]`, { timeout: 30_000 });
    await board.evaluate(() => (window.__sameDocument = true));

    const detail = await browser.newPage(CS);
    await detail.goto(`${stack.console.httpUrl}/orders/${orderId}`);
    await detail.waitForSelector('[data-testid="order-detail"]');
    expect(await detail.textContent('[data-testid="phone-masked"]')).toMatch(/\*/);

    // Hold from the order page: Idempotency-Key + If-Match sent, the order comes back on hold.
    await detail.click('[data-testid="action-PlaceHold"]');
    await detail.fill('[data-testid="action-reason"]', '客户要求改地址');
    await detail.click('[data-testid="action-confirm"]');
    await detail.waitForSelector('[data-testid="flag-hold"]', { timeout: 20_000 });
    const held = await call(stack.procs['order-intake'].httpUrl, 'GET', `/api/orders/${orderId}`);
    expect(held.json).toMatchObject({ flags: ['on_hold'], hold: { reason: '客户要求改地址' } });

    // The board, open in another tab, turns the card to "held" through SSE without a reload.
    await board.waitForFunction((id) => document.getElementById(`o-${id}`)?.getAttribute('data-colour') === 'hold', orderId, { timeout: 30_000 });
    await shot(board, 'board');

    // Someone else releases and holds again meanwhile: this page's If-Match is stale -> 412, shown in Chinese with the code.
    const rev = held.json.revision as number;
    expect((await intake('POST', `/api/orders/${orderId}/holds/release`, { reason: '他人处理' }, { 'if-match': `"${rev}"` })).status).toBe(200);
    expect((await intake('POST', `/api/orders/${orderId}/holds`, { reason: '他人再次挂起' })).status).toBe(200);
    await detail.click('[data-testid="action-ReleaseHold"]');
    await detail.fill('[data-testid="action-reason"]', '已确认地址');
    await detail.click('[data-testid="action-confirm"]');
    const refusal = await detail.waitForSelector('[data-testid="problem"]', { timeout: 20_000 });
    expect(await refusal.getAttribute('data-code')).toBe('ORDER_VERSION_MISMATCH');
    expect(await refusal.textContent()).toContain('订单已被他人修改');

    // Reload (fresh ETag) and release: the board goes back to green, still the same document.
    await detail.reload();
    await detail.waitForSelector('[data-testid="flag-hold"]');
    await detail.click('[data-testid="action-ReleaseHold"]');
    await detail.fill('[data-testid="action-reason"]', '已确认地址');
    await detail.click('[data-testid="action-confirm"]');
    await detail.waitForSelector('[data-testid="flag-hold"]', { state: 'detached', timeout: 20_000 });
    await board.waitForFunction((id) => document.getElementById(`o-${id}`)?.getAttribute('data-colour') === 'green', orderId, { timeout: 30_000 });
    expect(await board.evaluate(() => window.__sameDocument)).toBe(true);
    expect(await cardColour(board, orderId)).toBe('green');
    await detail.waitForSelector('.ant-timeline-item', { timeout: 20_000 });
    await shot(detail, 'order');

    // axe-core on both screens: no serious or critical violations.
    expect(await seriousA11yViolations(board)).toEqual([]);
    expect(await seriousA11yViolations(detail)).toEqual([]);
    await board.close();
    await detail.close();
  }, 180_000);
});
