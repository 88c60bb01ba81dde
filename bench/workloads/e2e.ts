/**
 * end to end: placed-and-paid orders at a rate ladder (open loop), from the POST to the order
 * shown ready_to_ship by tracking (bench/lib/e2e-step.ts). Each rate is probed for half the phase
 * duration, climbing until a step is not held (p99 <= 1 s, no failures, the queue clears within
 * 2 s after the step); the highest held rate is then run for the hold period (60 s with the
 * default BENCH_DURATION_SEC=20, three phase durations when shorter). The baseline climbs the
 * same ladder with its one-transaction POST.
 */
import { Topics } from '@flowline/contracts';
import { describeStep, type DoneAt, flowlineStep, baselineStep, held, payFlow, type StepResult } from '../lib/e2e-step';
import { watchEvents } from '../lib/event-watch';
import { FLOW_GROUPS, LagSampler } from '../lib/kafka-lag';
import { trafficPerOrder } from '../lib/kafka-traffic';
import { costSnapshot, idleRate, orderCost, perServiceText, withoutIdle, type IdleRate, type OrderCost } from '../lib/order-cost';
import { type Figures, round } from '../lib/harness';
import { orderIntakeClient } from '@flowline/clients';
import { HttpClient } from '../lib/http';
import { newRunId } from '../lib/orders';
import { coresUsed, waitUntilSettled } from '../lib/procs';
import { watchStage } from '../lib/sse-watch';
import { ensureFlowlineStock, setBaselineStock } from '../lib/stock';
import { ensureSystem, physicalTopic, TOPIC_PREFIX } from '../lib/system';

export const RATES = [25, 50, 100, 250, 500, 1000, 1500, 2000];
/** BENCH_E2E_RATES=100,200 replaces the ladder (quick before/after comparisons). */
const ladder = () => (process.env.BENCH_E2E_RATES ? process.env.BENCH_E2E_RATES.split(',').map(Number) : RATES);
const log = (m: string) => console.log(`[e2e] ${m}`);

function coresText(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export interface Ladder {
  steps: StepResult[];
  best: StepResult | null;
  hold: StepResult | null;
}

/** Climbs `rates` with `step` until one is not held, probes the midpoint below it once (half the first rung if that one failed), then runs the best for `holdSec`. */
export async function climb(rates: readonly number[], probeSec: number, holdSec: number, step: (rate: number, sec: number) => Promise<StepResult>, label: string): Promise<Ladder> {
  const steps: StepResult[] = [];
  let best: StepResult | null = null;
  for (const rate of rates) {
    const r = await step(rate, probeSec);
    log(`${label} probe ${describeStep(r)}`);
    steps.push(r);
    if (!held(r)) {
      // One bisection between the last rate held and the first not held (25 -> 50 is a factor
      // of two): the midpoint, rounded to 5/s, is probed and kept if held. Same for both systems.
      // Below the first rung, its half: a machine that cannot hold 25/s still gets a figure.
      const floor = best?.rate ?? 0;
      const mid = Math.round((floor + rate) / 2 / 5) * 5;
      if (mid > floor && mid < rate) {
        const m = await step(mid, probeSec);
        log(`${label} probe ${describeStep(m)} (between ${floor}/s and ${rate}/s)`);
        steps.push(m);
        if (held(m)) best = m;
      }
      break;
    }
    best = r;
  }
  let hold: StepResult | null = null;
  if (best && holdSec > probeSec) {
    hold = await step(best.rate, holdSec);
    log(`${label} hold ${describeStep(hold)}`);
  }
  return { steps, best, hold };
}

export async function run({ durationSec }: { durationSec: number }): Promise<Figures> {
  const sys = await ensureSystem(log);
  const runId = newRunId();
  const skus = Array.from({ length: 200 }, (_, i) => `BENCH-E2E-${i}`);
  log('stock: 200 SKUs through inventory receipts, and the baseline stock rows');
  await ensureFlowlineStock(sys.urls.inventory, skus, 500_000);
  await setBaselineStock(sys.urls.baseline, skus, 100_000_000);
  const shape = { runId, skus };
  let seq = 0;
  const nextIndex = () => seq++;
  const probeSec = Math.max(5, Math.round(durationSec / 2));
  /** How long a step waits for its last orders (default 10 s; BENCH_E2E_DRAIN_SEC). Costs count what finished by then. */
  const drainSec = Number(process.env.BENCH_E2E_DRAIN_SEC ?? 10);
  const holdSec = Math.min(60, durationSec * 3);

  const ready = await watchEvents(physicalTopic(Topics.orderEvents), ['OrderReadyToShip'], `e2e-${runId}`);
  const tracking = await watchStage(sys.urls.tracking, 'ready_to_ship', 'tmall');
  // Groups and topics carry the run's KAFKA_TOPIC_PREFIX like the services' own.
  const lag = new LagSampler(Object.fromEntries(Object.entries(FLOW_GROUPS).map(([g, topics]) => [physicalTopic(g), topics.map(physicalTopic)])));
  await lag.start();
  const intakeHttp = new HttpClient(sys.urls.orderIntake, 512);
  const intake = orderIntakeClient(sys.urls.orderIntake, { fetch: intakeHttp.fetch });
  const baseline = new HttpClient(sys.urls.baseline, 512);
  const f: Figures = {};
  const cores: Record<string, string> = {};
  /** What an order cost at each step (CPU across all processes, commits, round trips), by rate. */
  const costs = new Map<StepResult, OrderCost>();
  const flowlinePids = () => Object.fromEntries(Object.entries(sys.pids()).filter(([k]) => k !== 'baseline'));
  try {
    const doneAt: DoneAt = (id) => tracking.seenAt(id);
    const kafkaAt: DoneAt = (id) => ready.seenAt('OrderReadyToShip', id);
    // Warm-up: JIT, pools and consumer fetch loops, not measured.
    await flowlineStep({ rate: 50, durationSec: 3, shape, nextIndex }, intake, doneAt);
    if (process.env.BENCH_BASELINE !== '0') await baselineStep({ rate: 50, durationSec: 3, shape, nextIndex }, baseline);
    // The idle system's own cost per second (polls, timers, fetch loops), taken out of each step's
    // per-order counts: at a low rate it would otherwise be charged to few orders.
    const settled = await waitUntilSettled(flowlinePids);
    log(`  settled after the warm-up in ${settled.waitedSec} s (${settled.lastMsPerSec} ms/s of CPU in the last second)`);
    const idleFrom = await costSnapshot(flowlinePids(), sys.services);
    await new Promise((w) => setTimeout(w, Math.max(5, probeSec) * 1000));
    const idle: IdleRate = idleRate(idleFrom, await costSnapshot(flowlinePids(), sys.services));
    const idleCpuMsPerSec = round(Object.entries(idle.cpu).filter(([k]) => k !== 'bench client' && !k.startsWith('pg ')).reduce((a, [, v]) => a + v * 1000, 0), 1);
    f['Flowline payment (BENCH_E2E_PAY)'] = payFlow() === 'with-placement' ? 'with the placement (one POST)' : 'separate POST /payments';
    f['idle cost: CPU ms/s, all processes'] = idleCpuMsPerSec;
    f['idle cost: commits/s, all services'] = round(sys.services.reduce((a, s2) => a + (idle.commits[s2.database] ?? 0), 0), 1);
    f['idle cost: DB round trips/s, all services'] = round(Object.values(idle.queries).reduce((a, b) => a + b, 0), 1);
    f['detail.idle cost per second'] = JSON.stringify(idle);
    log(`  idle: CPU ${idleCpuMsPerSec} ms/s, commits ${f['idle cost: commits/s, all services']}/s, round trips ${f['idle cost: DB round trips/s, all services']}/s (taken out of the per-order figures)`);
    sys.rss.mark();

    const ours = await climb(
      ladder(),
      probeSec,
      holdSec,
      async (rate, sec) => {
        // The bench's own watchers (e2e-<run>) are not the system's deliveries.
        const ownGroup = (g: string) => g.startsWith('e2e-') || g.startsWith('bench');
        const trafficBefore = await lag.traffic(TOPIC_PREFIX, ownGroup).catch(() => null);
        const before = await costSnapshot(flowlinePids(), sys.services);
        lag.mark();
        const r = await flowlineStep({ rate, durationSec: sec, shape, nextIndex, drainSec }, intake, doneAt, { 'to OrderReadyToShip on Kafka': kafkaAt });
        const after = await costSnapshot(flowlinePids(), sys.services);
        // After the drain and a commit interval (ADR 0022: offsets committed at most once a second).
        await new Promise((w) => setTimeout(w, 1_500));
        const trafficAfter = trafficBefore && (await lag.traffic(TOPIC_PREFIX, ownGroup).catch(() => null));
        if (trafficBefore && trafficAfter && r.accepted > 0) {
          const t = trafficPerOrder(trafficBefore, trafficAfter, r.accepted, TOPIC_PREFIX);
          f[`Kafka messages per order @${rate}/s ${sec} s`] = t.messagesTotal;
          f[`Kafka deliveries per order @${rate}/s ${sec} s`] = t.deliveriesTotal;
          f[`detail.Kafka traffic per order @${rate}/s ${sec} s`] = JSON.stringify(t);
          log(`  Kafka per order: ${t.messagesTotal} messages (${perServiceText(t.messages)}); ${t.deliveriesTotal} deliveries (${perServiceText(t.deliveries)})`);
        }
        cores[`flowline @${rate}/s ${sec} s`] = coresText(coresUsed(before.cpu, after.cpu));
        const lags = lag.mark();
        f[`detail.max consumer lag @${rate}/s ${sec} s`] = JSON.stringify(lags);
        // Per accepted (placed-and-paid) order: CPU ms per process, commits and round trips per service.
        const cost = orderCost(before, withoutIdle(before, after, idle), r.accepted, sys.services);
        f[`detail.cost per order with idle @${rate}/s ${sec} s`] = JSON.stringify(orderCost(before, after, r.accepted, sys.services));
        costs.set(r, cost);
        if (r.accepted > 0) f[`detail.cost per order @${rate}/s ${sec} s`] = JSON.stringify(cost);
        log(`  cores: ${cores[`flowline @${rate}/s ${sec} s`]}; max consumer lag: ${JSON.stringify(lags)}`);
        log(`  per order: CPU ${cost.cpuMsTotal} ms (${perServiceText(cost.cpuMs)}); commits ${cost.commitsTotal} (${perServiceText(cost.commits)}); WAL syncs ${cost.walSyncs ?? 'n/a'}; round trips ${cost.roundTripsTotal} (${perServiceText(cost.roundTrips)})`);
        const broken = tracking.error();
        if (broken) throw new Error(`tracking stream broke: ${broken}`);
        return r;
      },
      'flowline',
    );
    const rssOurs = sys.rss.mark();
    // BENCH_BASELINE=0 leaves the baseline out (quick before/after comparisons of Flowline alone).
    const theirs = await climb(
      process.env.BENCH_BASELINE === '0' ? [] : ladder(),
      probeSec,
      holdSec,
      async (rate, sec) => {
        const pids = { baseline: sys.pids().baseline };
        const before = await costSnapshot(pids, []);
        const r = await baselineStep({ rate, durationSec: sec, shape, nextIndex }, baseline);
        const after = await costSnapshot(pids, []);
        cores[`baseline @${rate}/s ${sec} s`] = coresText(coresUsed(before.cpu, after.cpu));
        // The baseline's own process and PostgreSQL; its one database's commits.
        const base = orderCost(before, after, r.accepted, [{ name: 'baseline', httpPort: 0, database: new URL(sys.databaseUrl('baseline')).pathname.slice(1) }]);
        base.cpuMsTotal = r.accepted > 0 ? round((((after.cpu.cpu.baseline ?? 0) - (before.cpu.cpu.baseline ?? 0) + (after.cpu.cpu.postgres ?? 0) - (before.cpu.cpu.postgres ?? 0)) * 1000) / r.accepted, 2) : 0;
        costs.set(r, base);
        return r;
      },
      'baseline',
    );

    for (const [key, ladder] of [['', ours], ['baseline.', theirs]] as const) {
      for (const s of ladder.steps) {
        f[`${key}p99 ms @${s.rate}/s`] = Number.isFinite(s.p99Ms) ? s.p99Ms : 'unfinished';
        if (key === '') {
          f[`p50 ms @${s.rate}/s`] = Number.isFinite(s.p50Ms) ? s.p50Ms : 'unfinished';
          for (const [k, v] of Object.entries(s.extra)) f[`detail.${k} ms @${s.rate}/s`] = v;
          f[`detail.backlog max @${s.rate}/s`] = s.maxBacklog;
          f[`detail.drain ms @${s.rate}/s`] = s.drainMs ?? 'timeout';
        } else f[`baseline.p50 ms @${s.rate}/s`] = s.p50Ms;
      }
      const best = ladder.hold && held(ladder.hold) ? ladder.hold : ladder.best;
      const holdOk = ladder.hold ? held(ladder.hold) : false;
      f[`${key}highest rate held (orders/s)`] = best ? best.rate : 0;
      f[`${key}held for (s)`] = ladder.hold ? (holdOk ? ladder.hold.durationSec : `${ladder.best?.durationSec ?? 0} (hold of ${ladder.hold.durationSec} s failed: p99 ${ladder.hold.p99Ms} ms)`) : (ladder.best?.durationSec ?? 0);
      if (best) {
        f[`${key}p50 ms at that rate`] = best.p50Ms;
        f[`${key}p99 ms at that rate`] = best.p99Ms;
      }
      // Cost per order at the highest held rate (else the first step): counts, load-independent enough to compare.
      const costed = best ?? ladder.steps[0];
      const cost = costed ? costs.get(costed) : undefined;
      if (cost && cost.orders > 0) {
        f[`${key}CPU ms per order, all processes (net of idle)`] = cost.cpuMsTotal;
        f[`${key}commits per order, all services (net of idle)`] = cost.commitsTotal;
        if (key === '') {
          f['cost measured @ (orders/s)'] = costed.rate;
          f['CPU ms per order by process'] = perServiceText(cost.cpuMs);
          f['commits per order by service (xact_commit)'] = perServiceText(cost.commits);
          if (cost.walSyncs !== undefined) f['WAL syncs per order (cluster)'] = cost.walSyncs;
          f['DB round trips per order, all services (net of idle)'] = cost.roundTripsTotal;
          f['DB round trips per order by service'] = perServiceText(cost.roundTrips);
        }
      }
      f[`detail.${key || 'flowline.'}steps`] = JSON.stringify([...ladder.steps, ...(ladder.hold ? [ladder.hold] : [])]);
    }
    for (const k of ['highest rate held (orders/s)', 'p50 ms at that rate', 'p99 ms at that rate', 'CPU ms per order, all processes (net of idle)', 'commits per order, all services (net of idle)']) {
      const a = f[k];
      const b = f[`baseline.${k}`];
      if (typeof a === 'number' && typeof b === 'number' && b !== 0) f[`ratio.${k}`] = round(a / b, 2);
    }
    for (const [k, v] of Object.entries(cores)) f[`detail.cores ${k}`] = v;
    for (const [name, s] of Object.entries(rssOurs)) {
      if (name === 'baseline') continue;
      f[`RSS MiB idle / max under load ${name}`] = `${sys.idleRss[name] ?? 'n/a'} / ${round(s.maxMiB, 0)}`;
    }
  } finally {
    tracking.stop();
    await lag.stop();
    await ready.stop();
    intakeHttp.close();
    baseline.close();
  }
  return f;
}
