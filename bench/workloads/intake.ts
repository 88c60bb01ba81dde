/**
 * intake: POST /api/orders at rising concurrency (autocannon, closed loop), then at a fixed
 * 1,000 orders/s (autocannon overallRate, latencies corrected for coordinated omission), against
 * Flowline's order-intake and against the CRUD baseline. Every request has its own channel order
 * id and Idempotency-Key.
 *
 * Durability: order-intake answers 201 after the COMMIT of the transaction that appended
 * OrderPlaced (and claimed the channel order id), on a server with synchronous_commit=on, i.e.
 * after the WAL is flushed. The workload reads that setting from the service's database and,
 * after the load, counts the orders stored for this run against the 201s it received.
 */
import { Client } from 'pg';
import { postOrders } from '../lib/cannon';
import { type Figures, round } from '../lib/harness';
import { newRunId } from '../lib/orders';
import { coresUsed, cpuSnapshot } from '../lib/procs';
import { setBaselineStock } from '../lib/stock';
import { ensureSystem } from '../lib/system';

const LADDER = [8, 32, 128];
const FIXED_RATE = 1_000;
const log = (m: string) => console.log(`[intake] ${m}`);

async function scalar<T>(url: string, sql: string, params: unknown[] = []): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(sql, params);
    return Object.values(r.rows[0] ?? {})[0] as T;
  } finally {
    await c.end();
  }
}

function describeCores(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export async function run({ durationSec }: { durationSec: number }): Promise<Figures> {
  const sys = await ensureSystem(log);
  const runId = newRunId();
  const skus = Array.from({ length: 50 }, (_, i) => `BENCH-INTAKE-${i}`);
  await setBaselineStock(sys.urls.baseline, skus, 100_000_000);
  const shape = { runId, skus };
  const stepSec = Math.max(5, Math.round(durationSec / 2));
  const targets = [
    { key: '', url: sys.urls.orderIntake, name: 'flowline' },
    { key: 'baseline.', url: sys.urls.baseline, name: 'baseline' },
  ];
  const f: Figures = {};
  // Ids of the orders Flowline answered 201 for: each must be stored (checked at the end).
  const created: string[] = [];
  const onCreated = (body: string) => {
    const id = (JSON.parse(body) as { orderId?: string }).orderId;
    if (id) created.push(id);
  };

  sys.rss.mark();
  for (const t of targets) {
    log(`${t.name}: warm-up 3 s at 8 connections`);
    await postOrders({ baseUrl: t.url, connections: 8, durationSec: 3, shape, ...(t.key === '' ? { onCreated } : {}) });
  }

  const best: Record<string, number> = {};
  for (const c of LADDER) {
    for (const t of targets) {
      const before = cpuSnapshot(sys.pids());
      const r = await postOrders({ baseUrl: t.url, connections: c, durationSec: stepSec, shape, ...(t.key === '' ? { onCreated } : {}) });
      const cores = coresUsed(before, cpuSnapshot(sys.pids()));
      log(`${t.name} c=${c}: ${round(r.ordersPerSec, 0)} orders/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, failed ${r.failed} ${JSON.stringify(r.statuses)}; cores: ${describeCores(cores)}`);
      f[`${t.key}orders/s c=${c}`] = round(r.ordersPerSec, 0);
      f[`${t.key}p50 ms c=${c}`] = r.p50Ms;
      f[`${t.key}p99 ms c=${c}`] = r.p99Ms;
      if (r.failed > 0) f[`${t.key}failed c=${c}`] = r.failed;
      f[`detail.${t.name}.cores c=${c}`] = describeCores(cores);
      best[t.key] = Math.max(best[t.key] ?? 0, r.ordersPerSec);
    }
  }
  for (const t of targets) f[`${t.key}max orders/s`] = round(best[t.key], 0);

  for (const t of targets) {
    const before = cpuSnapshot(sys.pids());
    const r = await postOrders({ baseUrl: t.url, connections: 64, durationSec, overallRate: FIXED_RATE, shape, ...(t.key === '' ? { onCreated } : {}) });
    const cores = coresUsed(before, cpuSnapshot(sys.pids()));
    log(`${t.name} @${FIXED_RATE}/s: ${round(r.ordersPerSec, 0)} orders/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, failed ${r.failed}; cores: ${describeCores(cores)}`);
    f[`${t.key}orders/s @${FIXED_RATE}/s`] = round(r.ordersPerSec, 0);
    f[`${t.key}p50 ms @${FIXED_RATE}/s`] = r.p50Ms;
    f[`${t.key}p99 ms @${FIXED_RATE}/s`] = r.p99Ms;
    f[`detail.${t.name}.cores @${FIXED_RATE}/s`] = describeCores(cores);
  }

  for (const k of Object.keys(f)) {
    if (k.startsWith('baseline.') || k.startsWith('detail.')) continue;
    const b = f[`baseline.${k}`];
    if (typeof b === 'number' && typeof f[k] === 'number' && b !== 0) f[`ratio.${k}`] = round((f[k] as number) / b, 2);
  }

  // Durability: every 201 of this run is an order in order-intake's tables (written in the same
  // transaction as OrderPlaced), and the server flushes WAL on commit.
  const url = sys.databaseUrl('order-intake');
  f['synchronous_commit'] = await scalar<string>(url, 'SHOW synchronous_commit');
  const stored = Number(await scalar<string>(url, 'SELECT count(*) FROM order_channel_claims WHERE order_id = ANY($1::text[])', [created]));
  f['201s answered / found stored'] = `${created.length} / ${stored}`;
  const rss = sys.rss.windowStats();
  for (const [name, s] of Object.entries(rss)) f[`detail.rss max MiB ${name}`] = round(s.maxMiB, 0);
  return f;
}
