import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { createKafka } from '@flowline/messaging';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHistory, type HistoryOptions } from '../src/demo/history';
import type { SalesReport } from '../src/application/sales-queries';
import { eventually } from './fixtures/events';

/*
 * The demo history end to end, each service its own process on its own database (one topic
 * prefix): scripts/demo-history.ts writes a small seeded history through order-intake's REST API
 * (stock received through inventory first); analytics, fed from Kafka, reports per day exactly
 * what the generator's orders add up to.
 */

const prefix = testTopicPrefix();
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const analyticsDb: { url?: string } = {};
const procs: Record<string, ServiceProcess> = {};
const OPTIONS: HistoryOptions = { seed: 7, days: 10, perDay: 3, end: '2026-03-10' };

/** Runs a TypeScript entry point of the repository as its own Node process; its local requests carry the demo admin token of the test issuer (scripts/oidc/bearer-preload.cjs, as `npm start` runs the seeder). */
function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', '-r', './scripts/oidc/bearer-preload.cjs', ...args], { cwd: resolve(__dirname, '../../..'), env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => done({ code, out, err }));
  });
}

beforeAll(async () => {
  const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
  const specs: [string, Record<string, string>][] = [
    ['inventory', { INVENTORY_CONSUMER_GROUP: `inventory-e2e-${uniqueSuffix()}` }],
    ['order-intake', {}],
    ['analytics', { ANALYTICS_CONSUMER_GROUP: `analytics-e2e-${uniqueSuffix()}` }],
  ];
  await Promise.all(
    specs.map(async ([service, env]) => {
      const db = await createTestDatabase(`e2e_hist_${service.replace('-', '_')}`);
      dbs.push(db);
      if (service === 'analytics') analyticsDb.url = db.url;
      procs[service] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: db.url }, readyTimeoutMs: 120_000 });
    }),
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
  const admin = createKafka({ brokers: kafkaBrokers(), clientId: 'analytics-e2e-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  await Promise.all(dbs.map((d) => d.drop()));
}, 120_000);

describe('demo history through the real intake API reaches the analytics', () => {
  it('analytics per day equal the generated orders (paid only, refunds on them)', async () => {
    // The script as an operator runs it, against the service processes.
    const run = await runNode(['scripts/demo-history.ts', '--days', String(OPTIONS.days), '--per-day', String(OPTIONS.perDay), '--seed', String(OPTIONS.seed), '--end', OPTIONS.end, '--json'], {
      ORDER_INTAKE_URL: procs['order-intake'].httpUrl,
      INVENTORY_URL: procs.inventory.httpUrl,
    });
    expect(run.code, run.err).toBe(0);
    const result = JSON.parse(run.out) as { orders: number; paid: number; refunded: number; failed: number };
    expect(result.failed).toBe(0);

    // Expected, computed here from the generator's orders (Beijing days).
    const expected = new Map<string, { orders: number; revenue: number; refunds: number }>();
    for (const h of generateHistory(OPTIONS).filter((x) => x.pay)) {
      const day = new Date(Date.parse(h.order.placedAt) + 8 * 3_600_000).toISOString().slice(0, 10);
      const total = h.order.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
      const e = expected.get(day) ?? { orders: 0, revenue: 0, refunds: 0 };
      expected.set(day, { orders: e.orders + 1, revenue: e.revenue + total, refunds: e.refunds + (h.refund ? total : 0) });
    }
    expect(result.paid).toBe([...expected.values()].reduce((s, e) => s + e.orders, 0));
    // Seed 7 has one refunded and one unpaid order among its 37: both paths are exercised.
    expect(result.refunded).toBe(generateHistory(OPTIONS).filter((h) => h.refund).length);
    expect(result.refunded).toBeGreaterThan(0);
    expect(result.orders).toBeGreaterThan(result.paid);
    const want = [...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, e]) => ({ key, ...e }));

    const url = `${procs.analytics.httpUrl}/api/analytics/sales?by=day&from=2026-02-01T00:00:00%2B08:00&to=2026-03-11T00:00:00%2B08:00`;
    const report = await eventually(
      'analytics to hold every generated order',
      async () => {
        const r = (await (await fetch(url)).json()) as SalesReport;
        const got = r.rows.map((x) => ({ key: x.key, orders: x.orders, revenue: x.revenue, refunds: x.refunds }));
        return JSON.stringify(got) === JSON.stringify(want) ? r : undefined;
      },
      120_000,
      500,
    );
    expect(report.total.revenue).toBe(want.reduce((s, e) => s + e.revenue, 0));
  }, 240_000);

  it('the rebuild CLI, run as its own process beside the live service, replays the topics into facts whose checksum equals the live ones', async () => {
    const run = await runNode(['services/analytics/src/cli/rebuild.ts'], { DATABASE_URL: analyticsDb.url ?? '', KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix });
    expect(run.code, run.err).toBe(0);
    const report = JSON.parse(run.out) as { equal: boolean; swapped: boolean; truncated: boolean; rebuilt: { checksum: string; tables: { order_fact: { rows: number } } }; live: { checksum: string } };
    expect(report).toMatchObject({ equal: true, swapped: false, truncated: false });
    expect(report.rebuilt.checksum).toBe(report.live.checksum);
    expect(report.rebuilt.tables.order_fact.rows).toBe(generateHistory(OPTIONS).length);
    const live = (await (await fetch(`${procs.analytics.httpUrl}/api/analytics/admin/checksum`)).json()) as { checksum: string };
    expect(live.checksum).toBe(report.live.checksum);
  }, 180_000);
});
