/**
 * `npm run bench -- profile` (not part of the default suite): CPU profile of the services under load.
 * Starts Flowline as `npm start` does but with `--cpu-prof` on every service, drives placed-and-paid
 * orders at PROFILE_RATE/s (default 300) for PROFILE_SEC (default 30) seconds (PROFILE_LOAD=intake:
 * POST /api/orders from 32 autocannon connections instead), stops the services (V8 writes the
 * profiles on exit) and prints the top self-time functions and packages of each.
 * Needs the ports free: a running instance can't be profiled.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { postOrders } from './lib/cannon';
import { type CpuProfile, formatSummary, summarize } from './lib/cpuprofile';
import { flowlineStep, describeStep } from './lib/e2e-step';
import { type Figures, runBenchCleanups } from './lib/harness';
import { HttpClient } from './lib/http';
import { orderIntakeClient } from '@flowline/clients';
import { newRunId } from './lib/orders';
import { watchStage } from './lib/sse-watch';
import { ensureFlowlineStock } from './lib/stock';
import { ensureSystem, ROOT, SERVICE_NODE_FLAGS } from './lib/system';

const log = (m: string) => console.log(`[profile] ${m}`);

export async function run(): Promise<Figures> {
  const rate = Number(process.env.PROFILE_RATE ?? 300);
  const sec = Number(process.env.PROFILE_SEC ?? 30);
  const dir = resolve(ROOT, `.data/bench/prof-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const sys = await ensureSystem(log, { FLOWLINE_NODE_FLAGS: `${SERVICE_NODE_FLAGS} --cpu-prof --cpu-prof-dir=${dir}` });
  if (!sys.startedHere) throw new Error('Flowline is already running: stop it first, the profile needs services started with --cpu-prof');
  const pids = sys.pids();
  const runId = newRunId();
  const skus = Array.from({ length: 200 }, (_, i) => `BENCH-E2E-${i}`);
  await ensureFlowlineStock(sys.urls.inventory, skus, 500_000);
  const tracking = await watchStage(sys.urls.tracking, 'ready_to_ship', 'tmall');
  const http = new HttpClient(sys.urls.orderIntake, 512);
  const intake = orderIntakeClient(sys.urls.orderIntake, { fetch: http.fetch });
  let seq = 0;
  const shape = { runId, skus };
  try {
    // Warm-up, then the profiled load (the profile covers the whole process life; the load dominates).
    await flowlineStep({ rate: 50, durationSec: 3, shape, nextIndex: () => seq++ }, intake, (id) => tracking.seenAt(id));
    if (process.env.PROFILE_LOAD === 'intake') {
      const r = await postOrders({ baseUrl: sys.urls.orderIntake, connections: 32, durationSec: sec, shape });
      log(`load: intake ${Math.round(r.ordersPerSec)} orders/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
    } else {
      const r = await flowlineStep({ rate, durationSec: sec, shape, nextIndex: () => seq++ }, intake, (id) => tracking.seenAt(id));
      log(`load: ${describeStep(r)}`);
    }
  } finally {
    tracking.stop();
    http.close();
  }
  log('stopping the services: V8 writes the profiles on exit');
  await runBenchCleanups();
  const byPid = new Map(Object.entries(pids).map(([name, pid]) => [pid, name]));
  const out: string[] = [`profile of the end-to-end path at ${rate}/s for ${sec} s (${dir})`];
  const f: Figures = {};
  for (const file of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const pid = Number(file.split('.')[3]);
    const name = byPid.get(pid) ?? `pid ${pid}`;
    const s = summarize(JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as CpuProfile, 20);
    out.push('', formatSummary(name, s));
    f[`busy ms ${name}`] = s.busyMs;
  }
  const text = out.join('\n');
  writeFileSync(resolve(dir, 'summary.txt'), text);
  console.log(`\n${text}\n`);
  return f;
}
