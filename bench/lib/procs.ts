import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The pid of the process listening on a TCP port on this machine (`ss -ltnp`), or undefined. */
export function pidListeningOn(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB from /proc/<pid>/status (VmRSS), or undefined when the process is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Total CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Parent pid and the CPU seconds of its exited, reaped children (cutime + cstime), from /proc. */
function parentAndReapedCpu(pid: number): { ppid: number; reaped: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), reaped: (Number(fields[13]) + Number(fields[14])) / 100 };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of every PostgreSQL process so far: the live ones, plus what the backends that have
 * exited used (the postmaster's reaped-children time). Without the latter a phase in which pools
 * replace idle connections loses the CPU of every backend that closed during it.
 */
export function postgresCpuSeconds(): number {
  const pids = pidsByComm('postgres');
  const set = new Set(pids);
  let total = 0;
  for (const pid of pids) {
    total += cpuSeconds(pid) ?? 0;
    const p = parentAndReapedCpu(pid);
    if (p && !set.has(p.ppid)) total += p.reaped; // the postmaster
  }
  return total;
}

export interface RssStats {
  /** Highest VmRSS seen while sampling, MiB. */
  maxMiB: number;
  /** Last sample, MiB. */
  lastMiB: number;
  samples: number;
}

/**
 * Samples VmRSS of named processes every `everyMs` while load runs. Several phases can share one
 * sampler: `mark(label)` starts a fresh window (e.g. per workload) while `overall` keeps everything.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly overall = new Map<string, RssStats>();
  private window = new Map<string, RssStats>();

  constructor(
    private readonly pids: () => Record<string, number>,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Starts a new window; returns what the previous one saw. */
  mark(): Record<string, RssStats> {
    const prev = Object.fromEntries(this.window);
    this.window = new Map();
    return prev;
  }

  windowStats(): Record<string, RssStats> {
    return Object.fromEntries(this.window);
  }

  overallStats(): Record<string, RssStats> {
    return Object.fromEntries(this.overall);
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      const mib = rssMiB(pid);
      if (mib === undefined) continue;
      for (const m of [this.overall, this.window]) {
        const s = m.get(name) ?? { maxMiB: 0, lastMiB: 0, samples: 0 };
        s.maxMiB = Math.max(s.maxMiB, mib);
        s.lastMiB = mib;
        s.samples++;
        m.set(name, s);
      }
    }
  }
}

/** Pids whose command name (/proc/<pid>/comm) equals `comm`, e.g. every `postgres` backend. */
export function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * CPU seconds so far per group of processes: each named process, `postgres` (every backend,
 * including those that exited: see postgresCpuSeconds), `kafka` and this bench client. Two snapshots
 * give cores used per group over a phase: where the two cores went.
 */
export function cpuSnapshot(named: Record<string, number>): { at: number; cpu: Record<string, number> } {
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(named)) {
    const s = cpuSeconds(pid);
    if (s !== undefined) cpu[name] = s;
  }
  cpu.postgres = postgresCpuSeconds();
  // The same split by database (backend pid -> datname): which service's queries cost what.
  for (const [db, pids] of Object.entries(backendsByDatabase())) {
    if (!db.startsWith('flowline_')) continue;
    cpu[`pg ${db.replace(/^flowline_/, '')}`] = pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  }
  const kafka = pidListeningOn(9092);
  if (kafka !== undefined) cpu.kafka = cpuSeconds(kafka) ?? 0;
  const self = process.cpuUsage();
  cpu['bench client'] = (self.user + self.system) / 1e6;
  return { at: performance.now(), cpu };
}

/** Backend pids per database, from pg_stat_activity (psql); empty when psql is unavailable. */
export function backendsByDatabase(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  try {
    const text = execFileSync('psql', ['-At', '-F', ' ', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT pid, datname FROM pg_stat_activity WHERE datname IS NOT NULL'], {
      encoding: 'utf8',
      timeout: 5_000,
    });
    for (const line of text.split('\n')) {
      const [pid, db] = line.trim().split(' ');
      if (pid && db) (out[db] ??= []).push(Number(pid));
    }
  } catch {
    /* psql missing or the server elsewhere: no split */
  }
  return out;
}

/** Cores used per group between two snapshots (the per-database `pg <db>` split counts live backends only). */
export function coresUsed(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): Record<string, number> {
  const sec = (b.at - a.at) / 1000;
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(b.cpu)) {
    if (a.cpu[name] === undefined) continue;
    out[name] = Math.max(0, Math.round(((v - a.cpu[name]) / sec) * 100) / 100);
  }
  return out;
}

/** CPU seconds used per group between two snapshots. */
export function cpuUsed(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(b.cpu)) if (a.cpu[name] !== undefined) out[name] = Math.max(0, v - a.cpu[name]);
  return out;
}

/**
 * Waits until the processes have settled after load: the CPU of every group but this client
 * (PostgreSQL's per-database split aside), in 1 s slices, has stopped falling - a slice at least
 * 90% of the one before, after `minSec` - or `maxSec` passed. A fixed pause after a warm-up left
 * the consumers off the latency path (notification, analytics, fulfillment's webhooks) still
 * draining on a slower machine, and that drain was then counted as the idle cost and taken out of
 * every per-order figure. Returns the last slice, ms of CPU per second.
 */
export async function waitUntilSettled(named: () => Record<string, number>, opts: { minSec?: number; maxSec?: number } = {}): Promise<{ waitedSec: number; lastMsPerSec: number }> {
  const minSec = opts.minSec ?? 3;
  const maxSec = opts.maxSec ?? 20;
  const total = (a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>) =>
    Object.entries(cpuUsed(a, b))
      .filter(([k]) => k !== 'bench client' && !k.startsWith('pg '))
      .reduce((sum, [, v]) => sum + v * 1000, 0);
  let prev = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let sec = 1; sec <= maxSec; sec++) {
    const a = cpuSnapshot(named());
    await new Promise((r) => setTimeout(r, 1_000));
    last = total(a, cpuSnapshot(named())) / ((performance.now() - a.at) / 1000);
    if (sec >= minSec && last >= prev * 0.9) return { waitedSec: sec, lastMsPerSec: Math.round(last) };
    prev = last;
  }
  return { waitedSec: maxSec, lastMsPerSec: Math.round(last) };
}
