/**
 * hot SKU: every order is one line of the same SKU. Stock is received first through inventory's
 * API (enough for every order, so each outcome is a reservation). 64 concurrent clients place and
 * pay orders as fast as the system answers for the phase; reservations/s is the rate of
 * StockReserved events for those orders on inventory.events.v1 (the full path: HTTP -> order
 * stream -> relay -> inventory.commands.v1 -> inventory's batch on the SKU row -> relay ->
 * inventory.events.v1), over the phase and its drain. Latency: payment answered -> StockReserved.
 *
 * Baseline: the same orders (autocannon, 64 connections) against its single stock row; each 201
 * with status ready_to_ship is a reservation (the conditional decrement succeeded).
 */
import { Topics } from '@flowline/contracts';
import { postOrders } from '../lib/cannon';
import { watchEvents } from '../lib/event-watch';
import { type Figures, percentile, round } from '../lib/harness';
import { orderIntakeClient } from '@flowline/clients';
import { HttpClient } from '../lib/http';
import { benchOrder, newRunId } from '../lib/orders';
import { coresUsed, cpuSnapshot } from '../lib/procs';
import { ensureFlowlineStock, setBaselineStock } from '../lib/stock';
import { ensureSystem, physicalTopic } from '../lib/system';

const HOT_SKU = 'BENCH-HOT-1';
const CLIENTS = 64;
const log = (m: string) => console.log(`[hotsku] ${m}`);

function coresText(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export async function run({ durationSec }: { durationSec: number }): Promise<Figures> {
  const sys = await ensureSystem(log);
  const runId = newRunId();
  const shape = { runId, skus: [HOT_SKU], lines: 1 };
  await ensureFlowlineStock(sys.urls.inventory, [HOT_SKU], 5_000_000);
  await setBaselineStock(sys.urls.baseline, [HOT_SKU], 100_000_000);
  const outcomes = await watchEvents(physicalTopic(Topics.inventoryEvents), ['StockReserved', 'StockShortage'], `hotsku-${runId}`);
  const http = new HttpClient(sys.urls.orderIntake, CLIENTS * 2);
  const intake = orderIntakeClient(sys.urls.orderIntake, { fetch: http.fetch });
  const f: Figures = {};
  try {
    let seq = 0;
    const paid: { id: string; at: number }[] = [];
    const failures: Record<string, number> = {};
    const fail = (why: string) => (failures[why] = (failures[why] ?? 0) + 1);
    sys.rss.mark();
    const before = cpuSnapshot(sys.pids());
    const start = performance.now();
    const end = start + durationSec * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) {
          const o = benchOrder(seq++, shape);
          try {
            const placed = await intake.POST('/api/orders', { body: o.body, params: { header: { 'Idempotency-Key': o.idempotencyKey } } });
            if (placed.response.status !== 201 || !placed.data?.orderId) {
              fail(`place HTTP ${placed.response.status}`);
              continue;
            }
            const orderId = placed.data.orderId;
            const pay = await intake.POST('/api/orders/{orderId}/payments', { params: { path: { orderId } }, body: { amount: o.grandTotal, currency: 'CNY' } });
            if (pay.response.status !== 200) fail(`pay HTTP ${pay.response.status}`);
            else paid.push({ id: orderId, at: performance.now() });
          } catch (e) {
            fail(e instanceof Error ? e.message.slice(0, 60) : 'error');
          }
        }
      }),
    );
    const loadEnd = performance.now();
    const cores = coresUsed(before, cpuSnapshot(sys.pids()));
    // Drain: every paid order gets its outcome (at most 30 s more).
    const outcomeAt = (id: string) => outcomes.seenAt('StockReserved', id) ?? outcomes.seenAt('StockShortage', id);
    const deadline = loadEnd + 30_000;
    while (performance.now() < deadline && paid.some((p) => outcomeAt(p.id) === undefined)) await new Promise((w) => setTimeout(w, 100));
    const reservedTimes = paid.map((p) => outcomes.seenAt('StockReserved', p.id)).filter((t): t is number => t !== undefined);
    const shortages = paid.filter((p) => outcomes.seenAt('StockShortage', p.id) !== undefined).length;
    const missing = paid.filter((p) => outcomeAt(p.id) === undefined).length;
    const lastOutcome = reservedTimes.reduce((a, b) => Math.max(a, b), start);
    // Steady rate: reservations inside the load window after its first second (ramp-up).
    const steady = reservedTimes.filter((t) => t >= start + 1000 && t <= loadEnd).length / ((loadEnd - start - 1000) / 1000);
    const lat = paid.map((p) => (outcomes.seenAt('StockReserved', p.id) ?? Infinity) - p.at);
    f['reservations/s'] = round(steady, 0);
    f['reservations/s incl. drain'] = round(reservedTimes.length / ((lastOutcome - start) / 1000), 0);
    f['orders paid/s'] = round(paid.length / ((loadEnd - start) / 1000), 0);
    f['reserved / shortage / missing'] = `${reservedTimes.length} / ${shortages} / ${missing}`;
    f['p50 ms pay -> reserved'] = round(percentile(lat, 50), 0);
    f['p99 ms pay -> reserved'] = round(percentile(lat, 99), 0);
    f['drain s after load'] = round(Math.max(0, lastOutcome - loadEnd) / 1000, 1);
    if (Object.keys(failures).length) f['failures'] = JSON.stringify(failures);
    f['detail.cores flowline'] = coresText(cores);
    log(`flowline: ${f['reservations/s']} reservations/s steady (${f['reservations/s incl. drain']} incl. drain), ${f['orders paid/s']} orders paid/s, p99 pay->reserved ${f['p99 ms pay -> reserved']} ms, ${f['reserved / shortage / missing']}; cores: ${f['detail.cores flowline']}`);
    for (const [name, s] of Object.entries(sys.rss.mark())) f[`detail.rss max MiB ${name}`] = round(s.maxMiB, 0);

    const b0 = cpuSnapshot(sys.pids());
    const b = await postOrders({ baseUrl: sys.urls.baseline, connections: CLIENTS, durationSec, shape });
    f['detail.cores baseline'] = coresText(coresUsed(b0, cpuSnapshot(sys.pids())));
    f['baseline.reservations/s'] = round(b.ordersPerSec, 0);
    f['baseline.p50 ms pay -> reserved'] = b.p50Ms;
    f['baseline.p99 ms pay -> reserved'] = b.p99Ms;
    f['ratio.reservations/s'] = round(steady / b.ordersPerSec, 2);
    log(`baseline: ${f['baseline.reservations/s']} reservations/s, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms ${JSON.stringify(b.statuses)}; cores: ${f['detail.cores baseline']}`);
  } finally {
    await outcomes.stop();
    http.close();
  }
  return f;
}
