import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createKafka } from '@flowline/messaging';
import { createTestDatabase, fetchDemoToken, grandTotalOf, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Browser as PwBrowser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { OrderSubmission, TrackingOrderDetailView } from '@flowline/contracts';
import { UPSTREAMS, upstreamEnvName } from '../src/console.config';

/*
 * Test harness of the console's browser tests: the services as separate processes (their own
 * databases, one topic prefix), the console BFF in front of them, and Debian's Chromium driven by
 * playwright-core (never a downloaded browser).
 */

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
/** In CI (and under npm test, which installs it) a missing browser fails the run instead of skipping. */
export const browserRequired = !!process.env.CI || process.env.FLOWLINE_REQUIRE_BROWSER === '1';
export const shotDir = process.env.CONSOLE_SCREENSHOT_DIR;
const SKIP_REASON = ' (skipped: /usr/bin/chromium not installed; apt-get install chromium fonts-wqy-microhei, as .ci/run does)';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read loosely; assertions check their shape
export type Json = Record<string, any>;

/** The bearer token direct calls carry unless they name one: the stack issuer's admin (set by startStack). */
let defaultBearer: (() => Promise<string>) | undefined;

/** A direct call to a service (test setup and checks): the stack issuer's admin token unless `headers.authorization` is given. */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  // An explicit header (even '') also keeps the test setup's default token of another issuer off this call.
  const authorization = headers.authorization ?? (defaultBearer ? `Bearer ${await defaultBearer()}` : '');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers, authorization },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as Json };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Stack {
  prefix: string;
  procs: Record<string, ServiceProcess>;
  console: ServiceProcess;
  /** The stack's own OIDC issuer (scripts/oidc/issuer.mjs), which knows this console's redirect URI. */
  issuer: StackIssuer;
  stop(): Promise<void>;
}

export interface StackIssuer {
  url: string;
  /** An access token of a demo user (scripts/oidc/demo-users.mjs: cs, warehouse, finance, sales, designer, cost, gm, admin, ...). */
  token(user: string): Promise<string>;
  stop(): Promise<void>;
  restart(env: Record<string, string>): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = (s.address() as AddressInfo);
      s.close(() => res(port));
    });
  });
}

/**
 * The local issuer on a port of the stack's own. The issuer registers the console's redirect URI as
 * http://127.0.0.1:<3009 + FLOWLINE_PORT_OFFSET>/auth/callback: the console of a test runs on a free
 * port, so the issuer is restarted with the offset that names it once the console is up. Same key
 * directory (.data/oidc) and the same service-client secrets as the test run's issuer.
 */
async function startStackIssuer(): Promise<StackIssuer> {
  let port = await freePort();
  let url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const tokens = new Map<string, { token: string; until: number }>();
  const stop = () =>
    new Promise<void>((res) => {
      const c = child;
      if (!c || c.exitCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
    });
  const start = async (env: Record<string, string>) => {
    output = '';
    child = spawn(process.execPath, [join(REPO_ROOT, 'scripts/oidc/issuer.mjs')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, OIDC_PORT: String(port), OIDC_ISSUER_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    return eventually<true | 'port taken'>(
      'the stack OIDC issuer',
      async () => {
        // Another process took the free port between freePort() and the issuer's listen: say so at once.
        if (child?.exitCode !== null && output.includes('EADDRINUSE')) return 'port taken';
        if (child?.exitCode !== null) throw new Error(`issuer exited ${child?.exitCode}: ${output}`);
        const r = await fetch(`${url}/.well-known/openid-configuration`, { headers: { authorization: '' }, signal: AbortSignal.timeout(2_000) });
        return r.ok ? true : undefined;
      },
      60_000,
    );
  };
  // The first start may lose its port to another process; a restart keeps the port its tokens name.
  for (let attempt = 1; (await start({})) === 'port taken'; attempt++) {
    if (attempt >= 3) throw new Error(`the stack OIDC issuer lost its port ${attempt} times: ${output}`);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  }
  return {
    url,
    stop,
    restart: async (env) => {
      await stop();
      if ((await start(env)) === 'port taken') throw new Error(`the stack OIDC issuer could not listen again on ${port}: ${output}`);
    },
    async token(user) {
      const hit = tokens.get(user);
      if (hit && hit.until > Date.now()) return hit.token;
      // authorization '': not the test setup's default token (of the run's issuer) on a call to this one.
      const { accessToken, expiresIn } = await fetchDemoToken(url, user, { headers: { authorization: '' } });
      tokens.set(user, { token: accessToken, until: Date.now() + Math.max(0, expiresIn - 120) * 1000 });
      return accessToken;
    },
  };
}

/**
 * Starts the named services (in parallel), then those that need the others' URLs (`then`), then
 * those that need the `then` ones' (`last`), then the console pointed at all of them.
 */
export async function startStack(
  services: [string, Record<string, string>][],
  then: [string, (urls: Record<string, string>) => Record<string, string>][] = [],
  last: [string, (urls: Record<string, string>) => Record<string, string>][] = [],
): Promise<Stack> {
  const build = spawnSync('bash', ['services/console/scripts/build-web.sh'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, CONSOLE_WEB_TYPECHECK: '0' } });
  if (build.status !== 0) throw new Error(`console web build failed:\n${build.stdout}\n${build.stderr}`);
  const prefix = testTopicPrefix();
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  const procs: Record<string, ServiceProcess> = {};
  const issuer = await startStackIssuer();
  defaultBearer = () => issuer.token('admin');
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn', OIDC_ISSUER: issuer.url };
  const stop = async () => {
    if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
    await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
    const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'console-e2e-cleanup' }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    for (const db of dbs) await db.drop().catch(() => undefined);
    await issuer.stop();
  };
  try {
    const start = async (service: string, env: Record<string, string>) => {
      const db = await createTestDatabase(`console_e2e_${service.replace(/-/g, '_')}`);
      dbs.push(db);
      procs[service] = await startWithRetry(service, { ...common, ...env, DATABASE_URL: db.url }, 150_000);
    };
    const urlsNow = () => Object.fromEntries(Object.entries(procs).map(([name, p]) => [`${name.replace(/-/g, '_').toUpperCase()}_URL`, p.httpUrl]));
    await Promise.all(services.map(([service, env]) => start(service, env)));
    await Promise.all(then.map(([service, env]) => start(service, env(urlsNow()))));
    await Promise.all(last.map(([service, env]) => start(service, env(urlsNow()))));
    // A service this stack did not start is unreachable (503), never the default local port: there a
    // system started by `npm start` may answer, with 401 to this issuer's tokens (the app then goes to
    // the login again and again).
    const absent = Object.fromEntries(Object.keys(UPSTREAMS).map((name) => [upstreamEnvName(name), 'http://127.0.0.1:9']));
    const urls = { ...absent, ...urlsNow() };
    procs.console = await startWithRetry('console', { LOG_LEVEL: 'warn', OIDC_ISSUER: issuer.url, ...urls }, 60_000);
    await issuer.restart({ FLOWLINE_PORT_OFFSET: String(Number(new URL(procs.console.httpUrl).port) - 3009) });
  } catch (e) {
    await stop();
    throw e;
  }
  return { prefix, procs, console: procs.console, issuer, stop };
}

/**
 * startServiceProcess picks a free port and then the child binds it; with many test runs on one
 * machine another process can take it in between (EADDRINUSE). That one case is retried once.
 */
async function startWithRetry(service: string, env: Record<string, string>, readyTimeoutMs: number): Promise<ServiceProcess> {
  try {
    return await startServiceProcess({ service, env, readyTimeoutMs });
  } catch (e) {
    if (!String(e).includes('EADDRINUSE')) throw e;
    return startServiceProcess({ service, env, readyTimeoutMs });
  }
}

export interface Browser {
  /**
   * A page of `user` (a demo user of the stack's issuer), logged in through the console's OIDC login;
   * one browser context (cookie jar) per user and time zone. `timezoneId`: the browser's zone (IANA),
   * Asia/Shanghai unless named.
   */
  newPage(user: string, opts?: { mobile?: boolean; timezoneId?: string }): Promise<Page>;
  /** A page of a fresh context with no session (the login screen, the customer portal). */
  anonymousPage(): Promise<Page>;
  close(): Promise<void>;
}

const CONTEXT_OPTIONS = { viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' } as const;

/** Debian's Chromium with the launch flags the project uses. */
export async function launchBrowser(stack: Pick<Stack, 'console'>): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const browser: PwBrowser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  const contexts = new Map<string, BrowserContext>();
  const track = (page: Page) => {
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  };
  return {
    async newPage(user, opts = {}) {
      const key = opts.timezoneId ? `${user}@${opts.timezoneId}` : user;
      let context = contexts.get(key);
      if (!context) {
        context = await browser.newContext({ ...CONTEXT_OPTIONS, ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}) });
        contexts.set(key, context);
        const page = track(await context.newPage());
        await loginAs(page, stack.console.httpUrl, user);
        return page;
      }
      return track(await context.newPage());
    },
    async anonymousPage() {
      const context = await browser.newContext(CONTEXT_OPTIONS);
      return track(await context.newPage());
    },
    async close() {
      await browser.close().catch(() => undefined);
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}

/**
 * The whole staff login as a person does it: the console's login screen -> the issuer's sign-in page
 * (oidc-provider's development interactions, the password checked by scripts/oidc: a demo user, password demo) -> its consent page
 * (the console asks for offline_access, so the issuer asks) -> back on the console, logged in.
 */
export async function loginAs(page: Page, consoleUrl: string, user: string): Promise<void> {
  await page.goto(`${consoleUrl}/`);
  await page.click('[data-testid="login"]', { timeout: 30_000 });
  await page.waitForSelector('input[name="login"]', { timeout: 30_000 });
  await page.fill('input[name="login"]', user);
  await page.fill('input[name="password"]', 'demo');
  await page.click('button[type="submit"]');
  // Consent (offline_access needs prompt=consent), unless the issuer already holds it.
  const next = await Promise.race([
    page.waitForSelector('[data-testid="user-name"]', { timeout: 30_000 }).then(() => 'in' as const),
    page.waitForSelector('button:has-text("Continue")', { timeout: 30_000 }).then(() => 'consent' as const),
  ]);
  if (next === 'consent') {
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('[data-testid="user-name"]', { timeout: 30_000 });
  }
}

const axeSource = readFileSync(createRequire(__filename).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core (WCAG 2 A/AA rules) on the page as it is; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Checked on the settled page: a Select's list still fading out after a choice is an open
  // rc-select listbox, which has no accessible name of its own (upstream; its options are named).
  await page.waitForFunction(
    () =>
      Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ classList: { contains(c: string): boolean }; getClientRects(): ArrayLike<unknown> }> } }).document.querySelectorAll('.ant-select-dropdown')).every(
        (e) => e.classList.contains('ant-select-dropdown-hidden') || e.getClientRects().length === 0,
      ),
    undefined,
    { timeout: 5_000 },
  );
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ ...v, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target })) }));
}

export async function shot(page: Page, name: string): Promise<void> {
  if (shotDir) await page.screenshot({ path: join(shotDir, `console-${name}.png`), fullPage: true });
}

/** A browser test file's stack and browser (set before its first test runs) and its describe. */
export interface BrowserTests {
  readonly stack: Stack;
  readonly browser: Browser;
  /** describe.skipIf(no Chromium), the reason in the title when skipped. */
  describe(title: string, fn: () => void): void;
}

/**
 * The frame every console browser test file shares. Without /usr/bin/chromium the file fails at once
 * where a browser is required (CI, FLOWLINE_REQUIRE_BROWSER=1) and is reported as skipped with the
 * reason otherwise. Before the file's tests: `start` (the stack and any set-up of the file's own),
 * then Chromium; after them: the browser, the stack, then `stop` (what `start` made besides the stack).
 */
export function browserTests(name: string, o: { start: () => Promise<Stack>; stop?: () => Promise<void>; startTimeoutMs?: number }): BrowserTests {
  if (!haveChromium && browserRequired) throw new Error(`${name}: /usr/bin/chromium is missing (CI installs chromium + fonts-wqy-microhei via .ci/run)`);
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!haveChromium) return;
    stack = await o.start();
    browser = await launchBrowser(stack);
  }, o.startTimeoutMs ?? 420_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await o.stop?.();
  }, 120_000);
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${name}: the ${what} is not started (start failed, or no Chromium)`);
    return v;
  };
  return {
    get stack() {
      return started(stack, 'stack');
    },
    get browser() {
      return started(browser, 'browser');
    },
    describe: (title, fn) => describe.skipIf(!haveChromium)(`${title}${haveChromium ? '' : SKIP_REASON}`, fn),
  };
}

/** Places the order through order-intake and pays its grand total; returns the order id. */
/** `paidAt`: the payment's reported time (the platform's 付款时间). */
export async function placeAndPay(stack: Stack, submission: OrderSubmission, opts: { paidAt?: string } = {}): Promise<string> {
  const intake = stack.procs['order-intake'].httpUrl;
  const placed = await call(intake, 'POST', '/api/orders', submission, { 'idempotency-key': `k-${uniqueSuffix()}` });
  expect(placed.status, JSON.stringify(placed.json)).toBe(201);
  const orderId = placed.json.orderId as string;
  const paid = await call(intake, 'POST', `/api/orders/${orderId}/payments`, { amount: grandTotalOf(submission), currency: 'CNY', paymentRef: `pay-${orderId}`, ...opts }, { 'idempotency-key': `k-${uniqueSuffix()}` });
  expect(paid.status, JSON.stringify(paid.json)).toBe(200);
  return orderId;
}

/** The order's tracking detail once `until` holds for it. */
export function tracked(stack: Stack, orderId: string, until: (d: TrackingOrderDetailView) => boolean, what: string): Promise<TrackingOrderDetailView> {
  return eventually(what, async () => {
    const r = await call(stack.procs.tracking.httpUrl, 'GET', `/api/tracking/orders/${orderId}`);
    return r.status === 200 && until(r.json as TrackingOrderDetailView) ? (r.json as TrackingOrderDetailView) : undefined;
  });
}

/** Inventory's warehouse `warehouseId` (杭州仓) with 100 of TEA-LJ-250 and CUP-CLAY-01 received. */
export async function stockTeaAndCups(stack: Stack, warehouseId: string, reference: string): Promise<void> {
  const inv = stack.procs.inventory.httpUrl;
  expect((await call(inv, 'PUT', `/api/stock/warehouses/${warehouseId}`, { name: '杭州仓', priority: 1 })).status).toBe(200);
  for (const [sku, name] of [['TEA-LJ-250', '明前龙井 250g'], ['CUP-CLAY-01', '紫砂杯']]) {
    expect((await call(inv, 'PUT', `/api/stock/skus/${sku}`, { name })).status).toBe(200);
    expect((await call(inv, 'POST', '/api/stock/receipts', { sku, warehouseId, quantity: 100, reference })).status).toBe(201);
  }
}

export { uniqueSuffix };
