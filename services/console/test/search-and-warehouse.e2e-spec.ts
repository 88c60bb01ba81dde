import { aCustomer, anAddress, anOrderSubmission } from '@flowline/testing';
import type { TrackingOrderDetailView } from '@flowline/contracts';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { browserTests, call, eventually, placeAndPay as placeAndPayOrder, seriousA11yViolations, startStack, stockTeaAndCups, tracked as trackedOrder, uniqueSuffix, type Json } from './harness';

/*
 * Issue #17 in Debian's Chromium over the real services (inventory, order-intake, tracking,
 * fulfillment: separate processes, real Kafka and PostgreSQL) behind the console BFF:
 * - the Orders page finds an order by the customer's phone tail (手机尾号) and by SKU, and refuses a
 *   phone tail that is not four digits;
 * - returns receiving (退货入库): a delivered parcel with a return request, received by the warehouse
 *   user from the page; fulfillment records it and the page shows it received;
 * - intercept tasks (拦截任务): an order packed, then cancelled, shows up as a task; the warehouse user
 *   confirms the intercept; the parcel is stopped and the task leaves the page.
 */

declare const document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> };

const WH = 'WH-HZ-01';
const ui = browserTests('console search and warehouse browser test', {
  start: async () => {
    const started = await startStack([
      ['inventory', { INVENTORY_CONSUMER_GROUP: `inventory-search-${uniqueSuffix()}` }],
      ['order-intake', {}],
      ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-search-${uniqueSuffix()}` }],
      // Shipped SIM parcels move one carrier state a second: delivered a few seconds after the handover.
      ['fulfillment', { FULFILLMENT_SIM_CARRIER_STEP_MS: '1000' }],
    ]);
    await stockTeaAndCups(started, WH, 'PO-SEARCH');
    return started;
  },
});
const intake = (method: string, path: string, body?: unknown) => call(ui.stack.procs['order-intake'].httpUrl, method, path, body, { 'idempotency-key': `k-${uniqueSuffix()}` });
const fulfillment = (method: string, path: string, body?: unknown) => call(ui.stack.procs.fulfillment.httpUrl, method, `/api/fulfillment${path}`, body, { 'idempotency-key': `k-${uniqueSuffix()}` });

async function placeAndPay(o: { phone?: string; sku?: string; quantity?: number } = {}): Promise<string> {
  const phone = o.phone ?? '13812345678';
  const submission = anOrderSubmission({
    channel: 'jd',
    shopId: 'jd-flagship',
    channelOrderId: `JD-S-${uniqueSuffix()}`,
    placedAt: new Date().toISOString(),
    customer: aCustomer({ phone }),
    shippingAddress: anAddress({ phone }),
    lines: [{ lineId: 'L1', sku: o.sku ?? 'TEA-LJ-250', title: '明前龙井 250g', quantity: o.quantity ?? 1, unitPrice: 12800, lineDiscount: 0, category: 'tea' }],
  });
  return placeAndPayOrder(ui.stack, submission);
}

const tracked = (orderId: string, until: (d: TrackingOrderDetailView) => boolean, what: string) => trackedOrder(ui.stack, orderId, until, what);

/** The order's parcel once fulfillment created it, picked, scanned and packed through the API. */
async function packedParcel(orderId: string, sku: string, quantity: number): Promise<Json> {
  const parcel = await eventually('the parcel', async () => {
    const r = await fulfillment('GET', `/orders/${orderId}`);
    return r.status === 200 && r.json.shipments?.[0] ? (r.json.shipments[0] as Json) : undefined;
  });
  expect((await fulfillment('POST', `/shipments/${parcel.shipmentId}/pick`)).status).toBe(200);
  expect((await fulfillment('POST', `/shipments/${parcel.shipmentId}/scans`, { sku, quantity })).status).toBe(200);
  const packed = await fulfillment('POST', `/shipments/${parcel.shipmentId}/pack`, {});
  expect(packed.json, JSON.stringify(packed.json)).toMatchObject({ status: 'packed' });
  return packed.json;
}

/** The text field of an antd input carrying `testId` (Input.Search / InputNumber put it on their wrapper). */
const field = (testId: string) => `input[data-testid="${testId}"], [data-testid="${testId}"] input`;

/** The order ids the Orders table lists, in order. */
const listed = (page: Page) =>
  page.evaluate(() => Array.from(document.querySelectorAll('[data-testid^="order-link-"]')).map((a) => (a.getAttribute('data-testid') ?? '').slice('order-link-'.length)));

async function searchOrders(page: Page, modeLabel: string, text: string): Promise<void> {
  await page.click('[data-testid="order-search-mode"]');
  await page.click(`.ant-select-item-option[title="${modeLabel}"]`);
  await page.fill(field('order-search'), text);
  await page.press(field('order-search'), 'Enter');
}

async function waitListed(page: Page, expected: string[]): Promise<void> {
  let seen: string[] = [];
  await eventually(`the list to be ${expected.join(', ')}`, async () => ((seen = await listed(page)), JSON.stringify(seen) === JSON.stringify(expected) ? true : undefined), 30_000, 200).catch((e: Error) => {
    throw new Error(`${e.message}; it lists ${JSON.stringify(seen)} at ${page.url()}`);
  });
}

ui.describe('order search and warehouse returns / intercepts in Chromium', () => {
  it('a customer-service user finds an order by the phone tail (手机尾号) and by SKU; a tail that is not 4 digits is refused on the page', async () => {
    const tea = await placeAndPay({ phone: '13900001357', sku: 'TEA-LJ-250' });
    const cup = await placeAndPay({ phone: '13700002468', sku: 'CUP-CLAY-01' });
    await tracked(tea, () => true, 'the tea order tracked');
    await tracked(cup, () => true, 'the cup order tracked');

    const page = await ui.browser.newPage('cs');
    await page.goto(`${ui.stack.console.httpUrl}/orders`);
    await waitListed(page, [cup, tea]);

    await searchOrders(page, '手机尾号', '1357');
    await waitListed(page, [tea]);
    await searchOrders(page, 'SKU', 'CUP-CLAY-01');
    await waitListed(page, [cup]);
    // The smart box reads 尾号2468 as a phone tail.
    await searchOrders(page, '智能识别', '尾号2468');
    await waitListed(page, [cup]);
    // The search and the filters live in the URL: a reload shows the same list with the same box.
    await page.reload();
    await waitListed(page, [cup]);
    expect(await page.inputValue(field('order-search'))).toBe('尾号2468');
    // Placed-date filter (inclusive days, Shanghai time): from the day after the order was placed lists
    // nothing; from and until that day lists it again.
    const placedAt = Date.parse((await tracked(cup, () => true, 'the cup order')).order.placedAt);
    const day = (offset: number) => new Date(placedAt + 8 * 3_600_000 + offset * 86_400_000).toISOString().slice(0, 10);
    const answered = () => page.waitForResponse((r) => r.url().includes('/api/tracking/api/tracking/orders?') && r.url().includes('from='));
    let answer = answered();
    await page.fill('[data-testid="order-from"]', day(1));
    await answer;
    await waitListed(page, []);
    answer = answered();
    await page.reload();
    await answer;
    expect(await page.inputValue('[data-testid="order-from"]')).toBe(day(1));
    expect(new URL(page.url()).searchParams.get('from')).toBe(day(1));
    await waitListed(page, []);
    await page.fill('[data-testid="order-from"]', day(0));
    // Each day goes into the URL on its own render: the next one is typed once this one is applied
    // (typed at once, the second could be applied over the older from, after the to: refused 400).
    await page.waitForURL((u) => u.searchParams.get('from') === day(0));
    await page.fill('[data-testid="order-to"]', day(0));
    await waitListed(page, [cup]);

    await searchOrders(page, '手机尾号', '135');
    expect(await (await page.waitForSelector('[data-testid="order-search-invalid"]', { timeout: 10_000 })).textContent()).toBe('手机尾号须为 4 位数字');
    await page.mouse.move(0, 0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.close();
  }, 180_000);

  it('a warehouse user receives a return (退货入库) from the page: fulfillment records it received and the page shows it', async () => {
    const orderId = await placeAndPay({ sku: 'TEA-LJ-250', quantity: 2 });
    const parcel = await packedParcel(orderId, 'TEA-LJ-250', 2);
    expect((await fulfillment('POST', `/shipments/${parcel.shipmentId}/ship`, {})).status).toBe(200);
    await eventually('the parcel delivered', async () => ((await fulfillment('GET', `/orders/${orderId}`)).json.shipments?.[0]?.status === 'delivered' ? true : undefined), 60_000, 500);
    const rmaId = `RMA-${uniqueSuffix()}`;
    const rma = await fulfillment('POST', `/shipments/${parcel.shipmentId}/returns`, { rmaId, lines: [{ sku: 'TEA-LJ-250', quantity: 2 }], reason: '七天无理由退货' });
    expect(rma.status, JSON.stringify(rma.json)).toBe(201);

    const page = await ui.browser.newPage('warehouse');
    await page.goto(`${ui.stack.console.httpUrl}/warehouse`);
    await page.fill(field('returns-order'), orderId);
    await page.press(field('returns-order'), 'Enter');
    await page.waitForSelector(`[data-testid="rma-${rmaId}"][data-status="requested"]`, { timeout: 30_000 });
    // Only one of the two units came back: the count is changed before receiving.
    await page.fill(field(`rq-${rmaId}-TEA-LJ-250`), '1');
    await page.click(`[data-testid="receive-${rmaId}"]`);
    await page.waitForSelector(`[data-testid="rma-${rmaId}"][data-status="received"]`, { timeout: 30_000 });
    expect(await page.textContent(`[data-testid="rma-${rmaId}"]`)).toContain('可售');
    expect(await seriousA11yViolations(page)).toEqual([]);

    const after = await fulfillment('GET', `/orders/${orderId}`);
    expect(after.json.returns).toEqual([expect.objectContaining({ rmaId, status: 'received', received: [{ sku: 'TEA-LJ-250', quantity: 1, condition: 'resellable' }] })]);
    await page.close();
  }, 180_000);

  it('an order packed and then cancelled becomes an intercept task (拦截任务); the warehouse user confirms it and the parcel is stopped', async () => {
    const orderId = await placeAndPay({ sku: 'CUP-CLAY-01', quantity: 1 });
    const parcel = await packedParcel(orderId, 'CUP-CLAY-01', 1);
    await tracked(orderId, (d) => d.order.stage === 'packed', 'packed in tracking');
    const cancelled = await intake('POST', `/api/orders/${orderId}/cancel`, { reason: '顾客取消' });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    await eventually('the intercept task', async () => {
      const r = await fulfillment('GET', `/warehouses/${WH}/intercepts`);
      return r.json.tasks?.some((x: Json) => x.orderId === orderId) ? true : undefined;
    }, 60_000, 500);

    const page = await ui.browser.newPage('warehouse');
    await page.goto(`${ui.stack.console.httpUrl}/warehouse`);
    await page.click('[data-testid="warehouse"]');
    await page.click(`.ant-select-item-option[title*="${WH}"]`);
    expect(await (await page.waitForSelector(`[data-testid="intercept-${orderId}"]`, { timeout: 30_000 })).textContent()).toBe(parcel.shipmentId);
    await page.click(`[data-testid="intercept-confirm-${orderId}"]`);
    await page.waitForSelector(`[data-testid="intercept-${orderId}"]`, { state: 'detached', timeout: 30_000 });

    const after = await fulfillment('GET', `/orders/${orderId}`);
    expect(after.json.shipments[0]).toMatchObject({ shipmentId: parcel.shipmentId, status: 'stopped' });
    expect((await fulfillment('GET', `/warehouses/${WH}/intercepts`)).json.tasks.map((x: Json) => x.orderId)).not.toContain(orderId);
    await page.close();
  }, 180_000);
});
