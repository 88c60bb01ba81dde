import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export type Figures = Record<string, number | string>;

/** A workload: runs bounded in time and returns named figures. */
export interface Workload {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Figures>;
}

export interface BenchContext {
  /** Seconds each measured phase may take. */
  durationSec: number;
  /** Base URLs of the running system and the baseline, when the workload needs them. */
  urls: { orderIntake: string; inventory: string; tracking: string; baseline: string };
  log(msg: string): void;
}

export function machineFacts(): Figures {
  const cpu = cpus();
  let pg = 'unknown';
  let kafka = 'unknown';
  let autovacuum = 'unknown';
  let synchronousCommit = 'unknown';
  try {
    pg = execSync('psql -At -h 127.0.0.1 -U postgres -c "show server_version"', { encoding: 'utf8' }).trim();
  } catch {
    /* not essential */
  }
  try {
    autovacuum = execSync('psql -At -h 127.0.0.1 -U postgres -c "show autovacuum"', { encoding: 'utf8' }).trim();
    synchronousCommit = execSync('psql -At -h 127.0.0.1 -U postgres -c "show synchronous_commit"', { encoding: 'utf8' }).trim();
  } catch {
    /* not essential */
  }
  try {
    kafka = execSync(`sed -n 's#.*<kafka.version>\\(.*\\)</kafka.version>.*#\\1#p' scripts/kafka/pom.xml`, { encoding: 'utf8' }).trim();
  } catch {
    /* not essential */
  }
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pg,
    postgresAutovacuum: autovacuum,
    postgresSynchronousCommit: synchronousCommit,
    kafka,
  };
}

/** Percentile of a numeric sample (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Renders rows of figures as an aligned text table. */
export function table(rows: { workload: string; metric: string; flowline: string; baseline: string; ratio: string }[]): string {
  const header = { workload: 'workload', metric: 'metric', flowline: 'flowline', baseline: 'baseline', ratio: 'ours/baseline' };
  const all = [header, ...rows];
  const w = (k: keyof typeof header) => Math.max(...all.map((r) => String(r[k]).length));
  const line = (r: typeof header) =>
    `${r.workload.padEnd(w('workload'))}  ${r.metric.padEnd(w('metric'))}  ${r.flowline.padStart(w('flowline'))}  ${r.baseline.padStart(w('baseline'))}  ${r.ratio.padStart(w('ratio'))}`;
  return [line(header), ...rows.map(line)].join('\n');
}

const cleanups: (() => Promise<void>)[] = [];

/** Registers something to undo when the bench run ends (processes it started); run last-in first-out. */
export function atBenchEnd(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Runs the registered cleanups once, newest first; errors are printed, not thrown. */
export async function runBenchCleanups(): Promise<void> {
  for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
    await fn().catch((e: unknown) => console.error('cleanup failed:', e));
  }
}
