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

  it("the issuer's sign-in page refuses a wrong password and an unknown user (the page again, with an error), then signs in with the right one", async () => {
    const page = await ui.browser.anonymousPage();
    await page.goto(`${ui.stack.console.httpUrl}/`);
    await page.click('[data-testid="login"]', { timeout: 30_000 });
    await page.waitForSelector('input[name="login"]', { timeout: 30_000 });
    const issuerOrigin = new URL(ui.stack.issuer.url).origin;
    const submit = async (login: string, password: string) => {
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', password);
      const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/interaction/')), page.click('button[type="submit"]')]);
      return answer.status();
    };
    for (const [login, password] of [['cs', 'not-the-password'], ['nosuchuser', 'demo']] as const) {
      // Refused on the issuer's own page: 401 with the sign-in form again (not a login, not a 500).
      expect(await submit(login, password)).toBe(401);
      expect(await page.textContent('[data-testid="issuer-login-error"]')).toContain('用户名或密码错误');
      expect(new URL(page.url()).origin).toBe(issuerOrigin);
      expect(await page.inputValue('input[name="login"]')).toBe(login);
      expect(await page.inputValue('input[name="password"]')).toBe('');
    }
    expect((await page.context().cookies(ui.stack.console.httpUrl)).find((c) => c.name === 'flowline_sid')).toBeUndefined();
    // The password grant answers the same: no token without the password.
    const grant = await fetch(`${ui.stack.issuer.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: '' }, body: new URLSearchParams({ grant_type: 'password', client_id: 'flowline-cli', username: 'cs', password: 'not-the-password' }) });
    expect(grant.status).toBe(400);

    // The same sign-in, now with the right password, goes on to the console.
    expect(await submit('cs', 'demo')).toBe(303);
    const next = await Promise.race([
      page.waitForSelector('[data-testid="user-name"]', { timeout: 30_000 }).then(() => 'in' as const),
      page.waitForSelector('button:has-text("Continue")', { timeout: 30_000 }).then(() => 'consent' as const),
    ]);
    if (next === 'consent') await page.click('button:has-text("Continue")');
    expect(await (await page.waitForSelector('[data-testid="user-name"]', { timeout: 30_000 })).textContent()).toBe('客服 王芳');
    await page.close();
  }, 120_000);

  it('at phone width (390 x 844) the menu is behind a menu button and opens every screen of the role; no screen scrolls sideways', async () => {
    const page = await ui.browser.newPage('admin');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${ui.stack.console.httpUrl}/board`);
    await page.waitForSelector('[data-testid="nav-toggle"]', { timeout: 30_000 });
    const widths: Record<string, number> = {};
    for (const screen of ['board', 'orders', 'approvals', 'warehouse', 'inventory', 'imports', 'rules', 'analytics']) {
      await page.click('[data-testid="nav-toggle"]');
      const link = await page.waitForSelector(`[data-testid="nav-${screen}"]`, { state: 'visible', timeout: 10_000 });
      const box = (await link.boundingBox())!;
      expect(box.x + box.width, `nav-${screen} inside the screen`).toBeLessThanOrEqual(390);
      await link.click();
      await page.waitForURL((u) => u.pathname === `/${screen}`);
      await page.waitForSelector('main h2:visible', { timeout: 30_000 });
      await page.waitForTimeout(1_000);
      widths[screen] = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    }
    expect(widths).toEqual(Object.fromEntries(Object.keys(widths).map((k) => [k, 390])));
    // The user's controls moved into the menu too.
    await page.click('[data-testid="nav-toggle"]');
    expect(await (await page.waitForSelector('[data-testid="user-name"]', { state: 'visible' })).textContent()).toBe('管理员');
    await shot(page, 'phone-menu');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.close();
  }, 180_000);
});
