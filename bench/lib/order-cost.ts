/**
 * What one placed-and-paid order costs the whole system (issue #10): CPU milliseconds across all
 * processes, database commits and database round trips per service. Counts, not speeds: they
 * hardly depend on the machine's load, so they are comparable between runs.
 *
 * - CPU: /proc of every service process, every `postgres` process and the broker (procs.ts).
 * - Commits: `pg_stat_database.xact_commit` of each service database (every committed
 *   transaction, autocommit statements included), and the cluster's WAL flushes
 *   (`pg_stat_wal.wal_sync`, PostgreSQL 14+). PostgreSQL publishes a backend's counts when it goes
 *   idle (at most once a second), so a window's edges are blurred by up to a second of traffic.
 * - Round trips: `flowline_db_queries_total` (libs/observability: every query a pg client sends)
 *   from each service's /metrics, summed over its databases. pg_stat_statements would give the
 *   same from the server's side, but it needs shared_preload_libraries (a restart), which the
 *   bench cannot assume.
 */
import { execFileSync } from 'node:child_process';
import { round } from './harness';
import { cpuSnapshot, cpuUsed } from './procs';

export interface CostSnapshot {
  cpu: ReturnType<typeof cpuSnapshot>;
  /** xact_commit per database. */
  commits: Record<string, number>;
  /** pg_stat_wal.wal_sync of the cluster (undefined before PostgreSQL 14 or without psql). */
  walSyncs: number | undefined;
  /** flowline_db_queries_total per service (all its databases). */
  queries: Record<string, number>;
}

export interface ServiceEndpoint {
  name: string;
  httpPort: number;
  database: string;
}

function psql(sql: string): string {
  return execFileSync('psql', ['-At', '-F', ' ', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', sql], { encoding: 'utf8', timeout: 5_000 });
}

/** xact_commit per database (psql); empty when psql is unavailable. */
export function commitsByDatabase(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of psql('SELECT datname, xact_commit FROM pg_stat_database WHERE datname IS NOT NULL').split('\n')) {
      const [db, n] = line.trim().split(' ');
      if (db && n) out[db] = Number(n);
    }
  } catch {
    /* psql missing */
  }
  return out;
}

function walSyncs(): number | undefined {
  try {
    const n = Number(psql('SELECT wal_sync FROM pg_stat_wal').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Sum of `flowline_db_queries_total` samples in a Prometheus text exposition. */
export function dbQueriesFromMetrics(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('flowline_db_queries_total')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

async function queriesOf(port: number): Promise<number | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!r.ok) return undefined;
    return dbQueriesFromMetrics(await r.text());
  } catch {
    return undefined;
  }
}

/** One snapshot of every counter (CPU of `pids`, commits, WAL syncs, round trips of `services`). */
export async function costSnapshot(pids: Record<string, number>, services: readonly ServiceEndpoint[]): Promise<CostSnapshot> {
  const queries: Record<string, number> = {};
  await Promise.all(
    services.map(async (s) => {
      const n = await queriesOf(s.httpPort);
      if (n !== undefined) queries[s.name] = n;
    }),
  );
  return { cpu: cpuSnapshot(pids), commits: commitsByDatabase(), walSyncs: walSyncs(), queries };
}

export interface OrderCost {
  orders: number;
  /** CPU ms per order: every service process + postgres + kafka (the bench client left out). */
  cpuMsTotal: number;
  cpuMs: Record<string, number>;
  commitsTotal: number;
  commits: Record<string, number>;
  walSyncs: number | undefined;
  roundTripsTotal: number;
  roundTrips: Record<string, number>;
}

/**
 * The idle system's own rate between two snapshots (per second): polls, timers, consumer fetch
 * loops, leases. Subtracted from a step's counts so a low rate does not charge its orders with it.
 */
export interface IdleRate {
  seconds: number;
  cpu: Record<string, number>;
  commits: Record<string, number>;
  walSyncs: number | undefined;
  queries: Record<string, number>;
}

export function idleRate(a: CostSnapshot, b: CostSnapshot): IdleRate {
  const seconds = (b.cpu.at - a.cpu.at) / 1000;
  const rate = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(Object.entries(y).filter(([k]) => x[k] !== undefined).map(([k, v]) => [k, Math.max(0, v - x[k]) / seconds]));
  return {
    seconds,
    cpu: rate(a.cpu.cpu, b.cpu.cpu),
    commits: rate(a.commits, b.commits),
    walSyncs: a.walSyncs !== undefined && b.walSyncs !== undefined ? Math.max(0, b.walSyncs - a.walSyncs) / seconds : undefined,
    queries: rate(a.queries, b.queries),
  };
}

/** `b` with `idle`'s rate over the window a..b taken out (never below `a`). */
export function withoutIdle(a: CostSnapshot, b: CostSnapshot, idle: IdleRate): CostSnapshot {
  const sec = (b.cpu.at - a.cpu.at) / 1000;
  const minus = (x: Record<string, number>, y: Record<string, number>, r: Record<string, number>) =>
    Object.fromEntries(Object.entries(y).map(([k, v]) => [k, x[k] === undefined ? v : Math.max(x[k], v - (r[k] ?? 0) * sec)]));
  return {
    cpu: { at: b.cpu.at, cpu: minus(a.cpu.cpu, b.cpu.cpu, idle.cpu) },
    commits: minus(a.commits, b.commits, idle.commits),
    walSyncs: b.walSyncs !== undefined && a.walSyncs !== undefined && idle.walSyncs !== undefined ? Math.max(a.walSyncs, b.walSyncs - idle.walSyncs * sec) : b.walSyncs,
    queries: minus(a.queries, b.queries, idle.queries),
  };
}

/** Per-order costs between two snapshots, for `orders` orders. */
export function orderCost(a: CostSnapshot, b: CostSnapshot, orders: number, services: readonly ServiceEndpoint[]): OrderCost {
  const per = (v: number) => (orders > 0 ? round(v / orders, 2) : 0);
  const used = cpuUsed(a.cpu, b.cpu);
  const names = new Set(services.map((s) => s.name));
  const cpuMs: Record<string, number> = {};
  let cpuTotal = 0;
  for (const [k, v] of Object.entries(used)) {
    // `pg <db>` splits `postgres` by database: shown, not added twice.
    if (names.has(k) || k === 'postgres' || k === 'kafka') cpuTotal += v;
    if (names.has(k) || k === 'postgres' || k === 'kafka' || k.startsWith('pg ')) cpuMs[k] = per(v * 1000);
  }
  const commits: Record<string, number> = {};
  let commitsTotal = 0;
  const roundTrips: Record<string, number> = {};
  let rtTotal = 0;
  for (const s of services) {
    const c = (b.commits[s.database] ?? 0) - (a.commits[s.database] ?? 0);
    if (a.commits[s.database] !== undefined) {
      commits[s.name] = per(c);
      commitsTotal += c;
    }
    if (a.queries[s.name] !== undefined && b.queries[s.name] !== undefined) {
      const q = b.queries[s.name] - a.queries[s.name];
      roundTrips[s.name] = per(q);
      rtTotal += q;
    }
  }
  return {
    orders,
    cpuMsTotal: per(cpuTotal * 1000),
    cpuMs,
    commitsTotal: per(commitsTotal),
    commits,
    walSyncs: a.walSyncs !== undefined && b.walSyncs !== undefined ? per(b.walSyncs - a.walSyncs) : undefined,
    roundTripsTotal: per(rtTotal),
    roundTrips,
  };
}

/** `order-intake 3.1, inventory 2` (largest first, zeros left out). */
export function perServiceText(values: Record<string, number>): string {
  return Object.entries(values)
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
