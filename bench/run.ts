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
import { type Figures, machineFacts, table } from './lib/harness';

type RunFn = (opts: { durationSec: number }) => Promise<Figures>;

/** Each workload module exports `run`; loaded lazily so one workload's deps don't slow another. */
const WORKLOADS: Record<string, { file: string; what: string }> = {
  eventstore: { file: './workloads/eventstore', what: 'event store appends/s (single, batched) and subscription read rate' },
  inventory: { file: './workloads/inventory', what: 'reservations/s, one hot SKU and 10,000 SKUs' },
  rebuild: { file: './workloads/rebuild', what: 'tracking projection rebuild events/s' },
  system: { file: './workloads/system', what: 'intake, end to end, hot SKU and memory against the running system vs the CRUD baseline' },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 20);
  const names = args.length > 0 ? args : Object.keys(WORKLOADS);
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
      // eslint-disable-next-line @typescript-eslint/no-require-imports
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
      .filter(([k]) => !k.startsWith('baseline.') && !k.startsWith('ratio.'))
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

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
