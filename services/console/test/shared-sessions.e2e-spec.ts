import { randomBytes } from 'node:crypto';
import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, uniqueSuffix } from '@flowline/testing';
import { Client } from 'pg';
import { expect, it } from 'vitest';
import { browserTests, call, startStack } from './harness';

/*
 * Console sessions in the console's own PostgreSQL database (ADR 0014, amendment): two console
 * processes on one database and one CONSOLE_SESSION_KEYS. A finance user logs in through instance 1
 * (Chromium, the stack's real issuer); the cookie works on instance 2; instance 1 restarts and the
 * session is still valid there; logout on instance 2 ends it on instance 1 (no token forwarded ->
 * analytics answers 401). The table holds a hash of the id and sealed tokens, never a JWT.
 */

const DAY = 86_400_000;
const SALES = `/api/analytics/api/analytics/sales?by=channel&from=${new Date(Date.now() - 7 * DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const extra: ServiceProcess[] = [];
const saved = { url: process.env.DATABASE_URL, keys: process.env.CONSOLE_SESSION_KEYS };

const ui = browserTests('console shared-sessions test', {
  start: async () => {
    db = await createTestDatabase('console_sessions');
    // The harness starts console 1 with the test process's environment: the same database and key as console 2.
    process.env.DATABASE_URL = db.url;
    process.env.CONSOLE_SESSION_KEYS = `${randomBytes(32).toString('base64')},${randomBytes(32).toString('base64')}`;
    return startStack([['analytics', { ANALYTICS_CONSUMER_GROUP: `analytics-sessions-${uniqueSuffix()}` }]]);
  },
  // After the stack: the extra console instances, the sessions database, the environment.
  stop: async () => {
    for (const p of extra) await p.stop('SIGTERM').catch(() => undefined);
    await db?.drop();
    for (const [k, v] of [['DATABASE_URL', saved.url], ['CONSOLE_SESSION_KEYS', saved.keys]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  },
  startTimeoutMs: 300_000,
});

const startConsole = async (): Promise<ServiceProcess> => {
  const p = await startServiceProcess({ service: 'console', env: { LOG_LEVEL: 'warn', OIDC_ISSUER: ui.stack.issuer.url, ANALYTICS_URL: ui.stack.procs.analytics.httpUrl }, readyTimeoutMs: 60_000 });
  extra.push(p);
  return p;
};

ui.describe('console sessions shared by two instances through PostgreSQL', () => {
  it('a login on instance 1 works on instance 2, survives a restart of instance 1, and a logout on 2 ends it on 1', async () => {
    const page = await ui.browser.newPage('finance');
    const sid = (await page.context().cookies(ui.stack.console.httpUrl)).find((c) => c.name === 'flowline_sid')?.value;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.close();
    const cookie = { cookie: `flowline_sid=${sid}` };

    const two = await startConsole();
    expect((await call(two.httpUrl, 'GET', '/api/console/session', undefined, cookie)).json.user).toMatchObject({ subject: 'finance', roles: ['finance'] });
    expect((await call(two.httpUrl, 'GET', SALES, undefined, cookie)).status).toBe(200);

    // At rest: the id's hash and sealed tokens only.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ id_hash: string; tokens: string }>(`SELECT id_hash, tokens FROM console_session WHERE subject = 'finance'`);
      expect(rows).toHaveLength(1);
      expect(rows[0].id_hash).not.toBe(sid);
      expect(rows[0].tokens).toMatch(/^v1\.[0-9a-f]{8}\./);
      // No JWT in clear (header.payload. of a JWT): a bare 'eyJ' also turns up by chance in random
      // ciphertext (about once in a hundred runs: it failed CI once), a JWT's shape never does.
      expect(rows[0].tokens).not.toMatch(/eyJ[\w-]*\.eyJ[\w-]*\./);
    } finally {
      await pg.end();
    }

    // Instance 1 restarts (a new process): the session is still there.
    expect((await ui.stack.console.stop('SIGTERM')).code).toBe(0);
    const one = await startConsole();
    expect((await call(one.httpUrl, 'GET', '/api/console/session', undefined, cookie)).json.user).toMatchObject({ subject: 'finance' });
    expect((await call(one.httpUrl, 'GET', SALES, undefined, cookie)).status).toBe(200);

    // A logout posted by a page on another origin (same host, other port: the cookie goes along) is refused; the session stays.
    const forged = await call(two.httpUrl, 'POST', '/api/console/logout', undefined, { ...cookie, origin: 'http://127.0.0.1:1' });
    expect(forged.status).toBe(403);
    expect(forged.json).toMatchObject({ code: 'CROSS_SITE_REQUEST' });
    expect((await call(one.httpUrl, 'GET', '/api/console/session', undefined, cookie)).json.user).toMatchObject({ subject: 'finance' });
    const forgedPortal = await call(two.httpUrl, 'POST', '/api/console/portal/logout', undefined, { origin: 'http://127.0.0.1:1' });
    expect(forgedPortal.status).toBe(403);

    // Logout on instance 2 (from its own page, or no browser at all): gone for instance 1 too.
    expect((await call(two.httpUrl, 'POST', '/api/console/logout', undefined, { ...cookie, origin: new URL(two.httpUrl).origin })).status).toBe(200);
    expect((await call(one.httpUrl, 'GET', '/api/console/session', undefined, cookie)).json.user).toBeNull();
    expect((await call(one.httpUrl, 'GET', SALES, undefined, cookie)).status).toBe(401);
  }, 240_000);
});
