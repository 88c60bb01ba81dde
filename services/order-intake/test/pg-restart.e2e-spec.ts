import { freePort, startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { anOrderSubmission, kafkaBrokers, privatePostgresUnavailable, startPrivatePostgres, testTopicPrefix, uniqueSuffix, type PrivatePostgres } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue #9, must-show 8: PostgreSQL stopped as a crash (immediate mode) while orders flow and
 * started 3 s later. order-intake used to die (an unhandled 'error' of a pg client); now every
 * service (order-intake, inventory, tracking: separate processes) is ready again within 30 s
 * without a restart, every 201 order exists and every paid order moves on. The server crashed is
 * a private one of this test (port of its own), never the shared one.
 */
const unavailable = privatePostgresUnavailable();
const prefix = testTopicPrefix();
let pg: PrivatePostgres | undefined;
const procs: Record<string, ServiceProcess> = {};
const SERVICES = ['inventory', 'order-intake', 'tracking'] as const;

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
}

describe.skipIf(unavailable !== undefined)(`PostgreSQL crash under load${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    pg = startPrivatePostgres(await freePort());
    const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    for (const service of SERVICES) {
      const db = `flowline_${service.replace(/-/g, '_')}`;
      const env = { ...common, DATABASE_URL: pg.url(db), ...(service === 'inventory' ? { INVENTORY_CONSUMER_GROUP: `inventory-pgcrash-${uniqueSuffix()}` } : {}) };
      procs[service] = await startServiceProcess({ service, env, readyTimeoutMs: 120_000 });
    }
    const inv = procs.inventory.httpUrl;
    const put = (path: string, body: unknown) => fetch(`${inv}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put('/api/stock/warehouses/WH-HZ-01', { name: '杭州仓', priority: 1 })).status).toBe(200);
    const sku = anOrderSubmission().lines[0].sku;
    expect((await put(`/api/stock/skus/${sku}`, { name: sku })).status).toBe(200);
    expect((await post(inv, '/api/stock/receipts', { sku, warehouseId: 'WH-HZ-01', quantity: 100_000, reference: 'PO-PGCRASH' })).status).toBe(201);
  }, 300_000);

  afterAll(async () => {
    for (const p of Object.values(procs)) await p.stop('SIGTERM', 10_000).catch(() => undefined);
    pg?.destroy();
  }, 120_000);

  it('every service is ready again within 30 s without a restart; every 201 order exists; every paid order moves on', async () => {
    const intake = procs['order-intake'].httpUrl;
    const created: string[] = [];
    const paid: string[] = [];
    let running = true;
    let seq = 0;
    const loop = async () => {
      while (running) {
        const sub = anOrderSubmission({ channelOrderId: `PGC-${uniqueSuffix()}-${++seq}` });
        try {
          const placed = await post(intake, '/api/orders', sub, { 'idempotency-key': `pgc-${sub.channelOrderId}` });
          if (placed.status !== 201) {
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          const orderId = placed.json.orderId as string;
          created.push(orderId);
          const pay = await post(intake, `/api/orders/${orderId}/payments`, { amount: (placed.json.totals as { grandTotal: number }).grandTotal, paymentRef: `P-${seq}` }, { 'idempotency-key': `pgc-pay-${orderId}` });
          if (pay.status === 200 || pay.status === 201) paid.push(orderId);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const loops = [loop(), loop()];
    await waitUntil(() => paid.length >= 10, 60_000, '10 paid orders before the crash');

    pg!.crash();
    await new Promise((r) => setTimeout(r, 3_000));
    pg!.start();
    const restartedAt = Date.now();

    // Each probe's last answer, so a timeout names the service (and the component) still not ready.
    const lastAnswer: Record<string, string> = {};
    const ready = async (s: (typeof SERVICES)[number]): Promise<boolean> => {
      try {
        const res = await fetch(`${procs[s].httpUrl}/health/ready`, { signal: AbortSignal.timeout(3_000) });
        lastAnswer[s] = `${res.status} ${(await res.text()).slice(0, 400)}`;
        return res.status === 200;
      } catch (e) {
        lastAnswer[s] = String(e);
        return false;
      }
    };
    await waitUntil(async () => (await Promise.all(SERVICES.map(ready))).every(Boolean), 30_000, 'every service ready again').catch((e: Error) => {
      // A service that does not answer at all: say whether it exited, and show its last output.
      const silent = SERVICES.filter((s) => !lastAnswer[s]?.startsWith('200'))
        .map((s) => `--- ${s} (exit code ${procs[s].child.exitCode}, signal ${procs[s].child.signalCode}):\n${procs[s].output().slice(-4000)}`)
        .join('\n');
      throw new Error(`${e.message}; last answers: ${JSON.stringify(lastAnswer)}\n${silent}`);
    });
    console.log(`pg crash: every service ready ${Date.now() - restartedAt} ms after PostgreSQL came back`);
    for (const s of SERVICES) expect(procs[s].child.exitCode, `${s} exited:\n${procs[s].output().slice(-3000)}`).toBeNull();

    const before = created.length;
    await waitUntil(() => created.length >= before + 10, 60_000, '10 more orders after the restart');
    running = false;
    await Promise.all(loops);

    for (const orderId of created) expect((await fetch(`${intake}/api/orders/${orderId}`)).status, orderId).toBe(200);
    await waitUntil(
      async () => {
        const stages = await Promise.all(paid.map(async (id) => ((await (await fetch(`${intake}/api/orders/${id}`)).json()) as { stage: string }).stage));
        return stages.every((s) => s !== 'paid');
      },
      90_000,
      'every paid order moved on',
    );
    for (const s of SERVICES) expect(procs[s].child.exitCode, s).toBeNull();
  });
});
