import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createKafka } from '@flowline/messaging';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { BrowserContext, Page } from 'playwright-core';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read loosely; assertions check their shape
export type Json = Record<string, any>;

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
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
  stop(): Promise<void>;
}

/**
 * Starts the named services (in parallel), then those that need the others' URLs (`then`), then the
 * console pointed at all of them.
 */
export async function startStack(services: [string, Record<string, string>][], then: [string, (urls: Record<string, string>) => Record<string, string>][] = []): Promise<Stack> {
  const build = spawnSync('bash', ['services/console/scripts/build-web.sh'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, CONSOLE_WEB_TYPECHECK: '0' } });
  if (build.status !== 0) throw new Error(`console web build failed:\n${build.stdout}\n${build.stderr}`);
  const prefix = testTopicPrefix();
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  const procs: Record<string, ServiceProcess> = {};
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const stop = async () => {
    if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(procs)) console.log(`---- ${name}\n${p.output().slice(-4000)}`);
    await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
    const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'console-e2e-cleanup' }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    for (const db of dbs) await db.drop().catch(() => undefined);
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
    const urls = urlsNow();
    procs.console = await startWithRetry('console', { LOG_LEVEL: 'warn', ...urls }, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { prefix, procs, console: procs.console, stop };
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
  context: BrowserContext;
  newPage(user: string, opts?: { mobile?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

/** Debian's Chromium with the launch flags the project uses; each page logs in as `user` (dev stub). */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'flowline-console-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const errors: string[] = [];
  return {
    context,
    async newPage(user) {
      const page = await context.newPage();
      await page.addInitScript((u: string) => window.localStorage.setItem('flowline.devUser', u), user);
      page.on('pageerror', (e) => errors.push(e.message));
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}
declare const window: { localStorage: { setItem(k: string, v: string): void } };

const axeSource = readFileSync(createRequire(__filename).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core (WCAG 2 A/AA rules) on the page as it is; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
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

export { uniqueSuffix };
