import { uniqueSuffix } from '@flowline/testing';
import { expect, it } from 'vitest';
import { browserTests, call, loginAs, seriousA11yViolations, shot, startStack } from './harness';

/*
 * The staff login of the console in Debian's Chromium, end to end: the console BFF (own process)
 * in front of analytics (own process, own database), both trusting the stack's own local issuer
 * (scripts/oidc/issuer.mjs, a real oidc-provider): the console's login screen -> the issuer's
 * sign-in and consent pages -> the BFF exchanges the code with its PKCE verifier, verifies the
 * tokens and keeps them; the browser gets only an httpOnly SameSite=Strict cookie. The BFF forwards
 * the user's own token, so the services decide with the user's roles; logout ends the session
 * server-side.
 */

const ui = browserTests('console login browser test', {
  start: () => startStack([['analytics', { ANALYTICS_CONSUMER_GROUP: `analytics-login-${uniqueSuffix()}` }]]),
  startTimeoutMs: 300_000,
});

const DAY = 86_400_000;
const SALES = `/api/analytics/api/analytics/sales?by=channel&from=${new Date(Date.now() - 7 * DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}`;

ui.describe("the console's staff login in Chromium", () => {
  it('nobody logged in: the login screen (accessible, zh-CN), and the BFF forwards no identity', async () => {
    const page = await ui.browser.anonymousPage();
    await page.goto(`${ui.stack.console.httpUrl}/orders`);
    await page.waitForSelector('[data-testid="login"]');
    expect(await page.textContent('[data-testid="login"]')).toContain('登');
    await shot(page, 'login');
    expect(await seriousA11yViolations(page)).toEqual([]);
    // A token the browser made up is dropped by the BFF: no session, no token upstream -> 401.
    const r = await call(ui.stack.console.httpUrl, 'GET', SALES, undefined, { authorization: `Bearer ${await ui.stack.issuer.token('admin')}` });
    expect(r.status).toBe(401);
    expect((await call(ui.stack.console.httpUrl, 'GET', '/api/console/session')).json.user).toBeNull();
    await page.close();
  }, 60_000);

  it('a warehouse user logs in through the issuer: httpOnly SameSite=Strict cookie, no token in the page, menu and API rights follow the role, logout ends the session', async () => {
    const page = await ui.browser.newPage('warehouse');
    await page.goto(`${ui.stack.console.httpUrl}/board`);
    await page.waitForSelector('[data-testid="user-name"]');
    expect(await page.textContent('[data-testid="user-name"]')).toBe('仓库 李强');
    // The warehouse role: board, approvals, warehouse, inventory; no orders, imports, rules or analytics.
    const menu = await page.$$eval('[data-testid^="nav-"]', (els) => els.map((e) => e.getAttribute('data-testid')));
    expect(menu.sort()).toEqual(['nav-approvals', 'nav-board', 'nav-inventory', 'nav-warehouse']);
    const sid = (await page.context().cookies(ui.stack.console.httpUrl)).find((c) => c.name === 'flowline_sid');
    expect(sid).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const session = (await page.evaluate(async () => (await fetch('/api/console/session')).json())) as { user: unknown };
    expect(session.user).toMatchObject({ subject: 'warehouse', roles: ['warehouse'] });
    expect(JSON.stringify(session)).not.toMatch(/eyJ/);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain('flowline_sid');
    // Forwarded with the warehouse user's own token: analytics refuses the role (403), it does not see "no token" (401).
    expect(await page.evaluate(async (u) => (await fetch(u)).status, SALES)).toBe(403);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.click('[data-testid="logout"]');
    await page.waitForURL((u) => u.pathname.includes('session/end') || u.pathname === '/', { timeout: 30_000 });
    // The old cookie value is worth nothing now: the session is gone on the server.
    expect((await call(ui.stack.console.httpUrl, 'GET', '/api/console/session', undefined, { cookie: `flowline_sid=${sid?.value}` })).json.user).toBeNull();
    expect((await call(ui.stack.console.httpUrl, 'GET', SALES, undefined, { cookie: `flowline_sid=${sid?.value}` })).status).toBe(401);
    await page.close();
  }, 120_000);

  it('a finance user, logged in, reads analytics through the BFF; the English switch covers the header', async () => {
    const page = await ui.browser.newPage('finance');
    await page.goto(`${ui.stack.console.httpUrl}/analytics`);
    await page.waitForSelector('[data-testid="nav-analytics"]');
    expect(await page.evaluate(async (u) => (await fetch(u)).status, SALES)).toBe(200);
    await page.click('[data-testid="lang"]');
    await page.click('.ant-select-item-option[title="English"]');
    await page.getByText('Log out').waitFor();
    await page.close();
  }, 120_000);

  it('a login that comes back with a forged or replayed state is refused and says so', async () => {
    const page = await ui.browser.anonymousPage();
    await page.goto(`${ui.stack.console.httpUrl}/auth/callback?code=forged&state=forged`);
    const err = await page.waitForSelector('[data-testid="login-error"]', { timeout: 30_000 });
    expect(await err.getAttribute('data-code')).toBe('LOGIN_STATE_MISMATCH');
    // A real login from this refused page still works.
    await loginAs(page, ui.stack.console.httpUrl, 'cs');
    expect(await page.textContent('[data-testid="user-name"]')).toBe('客服 王芳');
    await page.close();
  }, 120_000);
});
