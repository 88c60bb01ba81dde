/**
 * memory: VmRSS (/proc/<pid>/status) of every service process and of the baseline, idle right
 * after start and at its highest while the system workloads ran (sampled every 500 ms for the
 * whole bench run). Run alone, it first drives its own load: intake at 64 connections and
 * placed-and-paid orders at 250/s, each for the phase duration.
 */
import { postOrders } from '../lib/cannon';
import { flowlineStep } from '../lib/e2e-step';
import { type Figures, round } from '../lib/harness';
import { orderIntakeClient } from '@flowline/clients';
import { HttpClient } from '../lib/http';
import { newRunId } from '../lib/orders';
import { watchStage } from '../lib/sse-watch';
import { ensureFlowlineStock, setBaselineStock } from '../lib/stock';
import { ensureSystem } from '../lib/system';

const log = (m: string) => console.log(`[memory] ${m}`);
export const RSS_AIM_MIB = 200;

export async function run({ durationSec }: { durationSec: number }): Promise<Figures> {
  const sys = await ensureSystem(log);
  const seen = sys.rss.overallStats();
  const loaded = Object.values(seen).some((s) => s.samples > 20);
  if (!loaded) {
    log('no system workload ran before: driving intake and end-to-end load first');
    const runId = newRunId();
    const skus = Array.from({ length: 50 }, (_, i) => `BENCH-MEM-${i}`);
    await ensureFlowlineStock(sys.urls.inventory, skus, 200_000);
    await setBaselineStock(sys.urls.baseline, skus, 100_000_000);
    const shape = { runId, skus };
    await postOrders({ baseUrl: sys.urls.orderIntake, connections: 64, durationSec, shape });
    await postOrders({ baseUrl: sys.urls.baseline, connections: 64, durationSec, shape });
    const tracking = await watchStage(sys.urls.tracking, 'ready_to_ship', 'tmall');
    const http = new HttpClient(sys.urls.orderIntake, 256);
    let seq = 1_000_000;
    try {
      await flowlineStep({ rate: 250, durationSec, shape, nextIndex: () => seq++ }, orderIntakeClient(sys.urls.orderIntake, { fetch: http.fetch }), (id) => tracking.seenAt(id));
    } finally {
      tracking.stop();
      http.close();
    }
  }
  sys.rss.sample();
  const stats = sys.rss.overallStats();
  const f: Figures = {};
  let total = 0;
  let over = 0;
  for (const [name, s] of Object.entries(stats)) {
    if (name === 'baseline') continue;
    f[`RSS MiB idle ${name}`] = sys.idleRss[name] ?? 'n/a';
    f[`RSS MiB max under load ${name}`] = round(s.maxMiB, 0);
    total += s.maxMiB;
    if (s.maxMiB > RSS_AIM_MIB) over++;
  }
  f[`services over ${RSS_AIM_MIB} MiB under load`] = over;
  f['RSS MiB max, all services'] = round(total, 0);
  const b = stats.baseline;
  if (b) {
    f['baseline.RSS MiB max, all services'] = round(b.maxMiB, 0);
    f['ratio.RSS MiB max, all services'] = round(total / b.maxMiB, 1);
    f['baseline RSS MiB idle / max'] = `${sys.idleRss.baseline ?? 'n/a'} / ${round(b.maxMiB, 0)}`;
  }
  return f;
}
