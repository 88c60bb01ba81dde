/**
 * `npm run bench [-- <workload> ...]`: Flowline's benchmark suite, with the naive CRUD baseline in
 * the same run. Library workloads (eventstore, inventory, rebuild) measure one component against a
 * fresh database; system workloads (intake, e2e, hotsku, memory) run against the real system
 * started as `npm start` starts it, every service its own process, on 127.0.0.1 only.
 *
 * Output: a table at the end and bench/results/<timestamp>.json with machine facts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Figures, machineFacts, runBenchCleanups, table } from './lib/harness';

type RunFn = (opts: { durationSec: number }) => Promise<Figures>;

/** Each workload module exports `run`; loaded lazily so one workload's deps don't slow another. */
const WORKLOADS: Record<string, { file: string; what: string; optional?: boolean }> = {
  eventstore: { file: './workloads/eventstore', what: 'event store appends/s (single, batched) and subscription read rate' },
  inventory: { file: './workloads/inventory', what: 'reservations/s, one hot SKU and 10,000 SKUs' },
  rebuild: { file: './workloads/rebuild', what: 'tracking projection rebuild events/s' },
  intake: { file: './workloads/intake', what: 'POST /api/orders at rising concurrency and at 1,000/s: orders/s, p50/p99, vs the CRUD baseline' },
  e2e: { file: './workloads/e2e', what: 'placed-and-paid orders at a rate ladder: POST to ready_to_ship in tracking, highest rate held with p99 <= 1 s' },
  hotsku: { file: './workloads/hotsku', what: 'every order on one SKU: reservations/s through the full path vs the baseline stock row' },
  memory: { file: './workloads/memory', what: 'RSS of every service process (and the baseline) idle and under the load of the system workloads' },
  // Only when named: starts each service alone (its own ports, databases, topics), ~1 min each.
  'memory-idle': { file: './workloads/memory-idle', what: 'idle VmRSS of each service started alone as npm start starts it, ready + 20 s (MEMORY_IDLE_SERVICES)', optional: true },
  // Only when named: kills services and takes the database and the broker away under load.
  faults: { file: './workloads/faults', what: 'guarantees under faults: services SIGKILLed, databases and the broker away, under load (FAULTS, FAULTS_RATE, FAULTS_SEC)', optional: true },
  // Only when named: restarts the services with --cpu-prof.
  profile: { file: './profile', what: 'CPU profile of every service under end-to-end load (PROFILE_RATE, PROFILE_SEC)', optional: true },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 20);
  const names = args.length > 0 ? args : Object.keys(WORKLOADS).filter((n) => !WORKLOADS[n].optional);
  const unknown = names.filter((n) => !WORKLOADS[n]);
  if (unknown.length > 0) {
    console.error(`unknown workload(s): ${unknown.join(', ')}; known: ${Object.keys(WORKLOADS).join(', ')}`);
    process.exit(2);
  }
  const results: Record<string, Figures> = {};
  for (const name of names) {
    const w = WORKLOADS[name];
    console.log(`\n=== ${name}: ${w.what}`);
    const started = Date.now();
    try {
      const mod = require(w.file) as { run: RunFn };
      results[name] = await mod.run({ durationSec });
    } catch (e) {
      results[name] = { error: e instanceof Error ? e.message : String(e) };
      console.error(`${name} failed:`, e);
    }
    results[name].elapsedSec = Math.round((Date.now() - started) / 100) / 10;
  }
  const rows = Object.entries(results).flatMap(([workload, figures]) =>
    Object.entries(figures)
      // baseline.* and ratio.* go in their columns; detail.* (cores per process, ...) only in the JSON.
      .filter(([k]) => !k.startsWith('baseline.') && !k.startsWith('ratio.') && !k.startsWith('detail.'))
      .map(([metric, v]) => ({
        workload,
        metric,
        flowline: String(v),
        baseline: figures[`baseline.${metric}`] !== undefined ? String(figures[`baseline.${metric}`]) : '',
        ratio: figures[`ratio.${metric}`] !== undefined ? String(figures[`ratio.${metric}`]) : '',
      })),
  );
  console.log(`\n${table(rows)}\n`);
  const dir = resolve(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: machineFacts(), durationSec, results }, null, 2));
  console.log(`results written to ${file}`);
}

// Ctrl-C: stop what this run started (Flowline, the baseline) before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping what the bench started`);
    void runBenchCleanups().finally(() => process.exit(130));
  });
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await runBenchCleanups();
    // kafkajs / pg handles of finished workloads must not keep the run alive.
    process.exit(process.exitCode ?? 0);
  });
