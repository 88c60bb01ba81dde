/**
 * The system under test, shared by the system workloads of one bench run:
 * - Flowline started as `npm start -- --no-seed` starts it (scripts/start.ts: infrastructure,
 *   topics, SWC build, every service its own `node dist/...` process), bound to 127.0.0.1, or
 *   the instance already serving on the ports (reused, left running);
 * - the naive CRUD baseline (bench/baseline/server.ts, compiled to plain JS like the services,
 *   same V8 flags) on 127.0.0.1:3100 with its own database `flowline_baseline`.
 * What this run started is stopped at the end of the run ({@link atBenchEnd}).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICES, serviceNodeFlags } from '../../scripts/services';
import { ensureBenchToken } from './auth';
import { atBenchEnd } from './harness';
import { pidListeningOn, rssMiB, RssSampler } from './procs';

export const ROOT = resolve(__dirname, '../..');

/**
 * A bench beside a running system (the shared development machine): FLOWLINE_PORT_OFFSET,
 * FLOWLINE_DB_PREFIX and KAFKA_TOPIC_PREFIX move the system this run starts as they move
 * `npm start` (its fakes are left out then: they listen on fixed ports). Unset: the usual ports.
 */
const PORT_OFFSET = Number(process.env.FLOWLINE_PORT_OFFSET ?? 0);
const DB_PREFIX = process.env.FLOWLINE_DB_PREFIX ?? '';
export const TOPIC_PREFIX = process.env.KAFKA_TOPIC_PREFIX ?? '';
/** The services as this run reaches them (ports and databases after the offset and prefix). */
export const BENCH_SERVICES = SERVICES.map((s) => ({ ...s, httpPort: s.httpPort + PORT_OFFSET, grpcPort: s.grpcPort + PORT_OFFSET, database: `${DB_PREFIX}${s.database}` }));
/** A logical topic as the services of this run name it. */
export const physicalTopic = (topic: string): string => `${TOPIC_PREFIX}${topic}`;
const WORK_DIR = resolve(ROOT, '.data/bench');
export const BASELINE_PORT = Number(process.env.BASELINE_PORT ?? 3100 + PORT_OFFSET);
/**
 * V8 flags of the baseline: those of a Flowline service (scripts/services.ts serviceNodeFlags),
 * so both sides run under the same heap settings. FLOWLINE_NODE_FLAGS, when set, goes to both.
 */
export const SERVICE_NODE_FLAGS = serviceNodeFlags({ heapMiB: 160 }).join(' ');

export interface SystemUrls {
  orderIntake: string;
  inventory: string;
  tracking: string;
  baseline: string;
}

export interface RunningSystem {
  urls: SystemUrls;
  /** True when this run started Flowline (false: an instance already running was reused). */
  startedHere: boolean;
  /** Where scripts/start.ts's output goes (services' logs, prefixed). */
  logFile: string | null;
  /** Process id per service name, plus `baseline`, found by listening port. */
  pids(): Record<string, number>;
  /** The database URL of a service (`flowline_<name>`) or of the baseline. */
  databaseUrl(name: string): string;
  /** VmRSS of every process right after start (or reuse), before any load, MiB. */
  idleRss: Record<string, number>;
  /** VmRSS sampled every 500 ms for the whole run: workloads read their window, memory the maximum. */
  rss: RssSampler;
  /** Every service with the port and database this run uses. */
  services: typeof BENCH_SERVICES;
}

const BASELINE_DB = `${DB_PREFIX}flowline_baseline`;
/** The PostgreSQL server the system runs on (its `postgres` database: admin work). */
export const serverUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function databaseUrlOf(database: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

async function ready(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, failed?: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = failed?.();
    if (why) throw new Error(`${what}: ${why}`);
    if (await check()) return;
    await new Promise((w) => setTimeout(w, 500));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Stops a child started detached (own process group): SIGTERM, then SIGKILL to the group after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await exited;
  }
}

async function startFlowline(log: (m: string) => void, extraEnv: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; logFile: string }> {
  mkdirSync(WORK_DIR, { recursive: true });
  const logFile = resolve(WORK_DIR, `system-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const fd = openSync(logFile, 'a');
  log(`starting Flowline: npm start -- --no-seed${PORT_OFFSET > 0 ? ` --no-fakes (port offset ${PORT_OFFSET}, databases ${DB_PREFIX}*, topics ${TOPIC_PREFIX}*)` : ''} (logs: ${logFile})`);
  const args = ['-r', '@swc-node/register', 'scripts/start.ts', '--no-seed', ...(PORT_OFFSET > 0 ? ['--no-fakes'] : [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    // Each service gets its own V8 flags from scripts/services.ts unless FLOWLINE_NODE_FLAGS is set.
    // Traces head-sampled at the production overlay's ratio (k8s/overlays/prod: 0.1; npm start's
    // default is 1.0 for development): the bench measures the system as it would run, and
    // OTEL_TRACES_SAMPLER_ARG=1 measures the development setting.
    env: { ...process.env, HOST: '127.0.0.1', NO_COLOR: '1', OTEL_TRACES_SAMPLER_ARG: process.env.OTEL_TRACES_SAMPLER_ARG ?? '0.1', ...extraEnv },
  });
  closeSync(fd);
  let exit: string | null = null;
  child.once('exit', (code, signal) => (exit = `scripts/start.ts exited (${code ?? signal})\n${tail(logFile)}`));
  await waitFor('Flowline', async () => (await Promise.all(BENCH_SERVICES.map((s) => ready(s.httpPort)))).every(Boolean), 240_000, () => exit);
  return { child, logFile };
}

/** Compiles the baseline to plain JS (like the services run) and starts it with the services' V8 flags. */
async function startBaseline(log: (m: string) => void): Promise<ChildProcess> {
  mkdirSync(WORK_DIR, { recursive: true });
  const swc = require('@swc/core') as typeof import('@swc/core');
  const out = swc.transformFileSync(resolve(ROOT, 'bench/baseline/server.ts'), {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'commonjs' },
  });
  const file = resolve(WORK_DIR, 'baseline-server.js');
  writeFileSync(file, out.code);
  const logFile = resolve(WORK_DIR, 'baseline.log');
  const fd = openSync(logFile, 'a');
  log(`starting the CRUD baseline on 127.0.0.1:${BASELINE_PORT} (database ${BASELINE_DB})`);
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS.split(' ').filter(Boolean), file], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, BASELINE_PORT: String(BASELINE_PORT), DATABASE_URL: databaseUrlOf(BASELINE_DB), BASELINE_DATABASE: BASELINE_DB },
  });
  closeSync(fd);
  let exit: string | null = null;
  child.once('exit', (code, signal) => (exit = `baseline exited (${code ?? signal})\n${tail(logFile)}`));
  await waitFor('baseline', () => ready(BASELINE_PORT), 60_000, () => exit);
  return child;
}

/**
 * VACUUM (ANALYZE) every database the run uses. The PostgreSQL on the bench machine may run with
 * autovacuum off (a CI setting): tables then never get statistics, and as they grow over runs the
 * planner picks sequential scans an ordinary server would not (tracking's live-feed query took
 * 45 ms instead of 0.8 ms on a 124k-row timeline), and the dead row versions of earlier runs stay
 * in the read models' tables and indexes (tracking's order_summary: as many dead versions as live
 * rows after one probe, every later upsert walking them). Statistics and a vacuum make the tables
 * those of a server with autovacuum on; the setting itself is recorded in the machine facts.
 */
async function vacuumAnalyzeDatabases(databases: string[], log: (m: string) => void): Promise<void> {
  const { Client } = await import('pg');
  for (const db of databases) {
    const c = new Client({ connectionString: databaseUrlOf(db) });
    try {
      await c.connect();
      await c.query('VACUUM (ANALYZE)');
    } catch (e) {
      log(`VACUUM (ANALYZE) ${db} failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

let current: Promise<RunningSystem> | null = null;

/**
 * Flowline and the baseline, started once per bench run (or reused when already serving).
 * `extraEnv` reaches scripts/start.ts and so every service (e.g. FLOWLINE_NODE_FLAGS with
 * --cpu-prof); it only applies when this call starts the system.
 */
export function ensureSystem(log: (m: string) => void = console.log, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningSystem> {
  current ??= (async () => {
    const up = await Promise.all(BENCH_SERVICES.map((s) => ready(s.httpPort)));
    let flowline: { child: ChildProcess; logFile: string } | null = null;
    if (up.every(Boolean)) {
      // A run it starts itself samples traces at 0.1 (the production setting, below); a reused
      // instance keeps whatever it was started with (npm start: 1.0), which costs CPU per order.
      log(`Flowline already serving on its ports: reusing it (left running afterwards; its trace sampling is what it was started with, the bench's own start uses ${process.env.OTEL_TRACES_SAMPLER_ARG ?? '0.1'})`);
    } else {
      const busy = BENCH_SERVICES.filter((s) => pidListeningOn(s.httpPort) !== undefined);
      if (busy.length > 0) throw new Error(`ports in use but not ready: ${busy.map((s) => `${s.name}:${s.httpPort}`).join(', ')}; stop that instance first`);
      const started = await startFlowline(log, extraEnv);
      flowline = started;
      atBenchEnd(async () => {
        log('stopping the Flowline this run started');
        await stopChild(started.child, 30_000);
      });
    }
    let baseline: ChildProcess | null = null;
    if (!(await ready(BASELINE_PORT))) {
      const child = await startBaseline(log);
      baseline = child;
      atBenchEnd(async () => {
        log('stopping the baseline');
        await stopChild(child, 10_000);
      });
    }
    const port = (name: string) => {
      const spec = BENCH_SERVICES.find((s) => s.name === name);
      if (!spec) throw new Error(`unknown service ${name}`);
      return spec.httpPort;
    };
    const pids = () => {
      const found: Record<string, number> = {};
      for (const s of BENCH_SERVICES) {
        const pid = pidListeningOn(s.httpPort);
        if (pid !== undefined) found[s.name] = pid;
      }
      const b = baseline?.pid ?? pidListeningOn(BASELINE_PORT);
      if (b !== undefined) found.baseline = b;
      return found;
    };
    await vacuumAnalyzeDatabases([...BENCH_SERVICES.map((sv) => sv.database), BASELINE_DB], log);
    // The services' APIs want a bearer token (issue #16); every bench HTTP client sends it.
    await ensureBenchToken(log);
    // Settle a moment after boot, then take the idle figure.
    await new Promise((w) => setTimeout(w, 3_000));
    const known = pids();
    const idleRss = Object.fromEntries(Object.entries(known).map(([n, pid]) => [n, Math.round(rssMiB(pid) ?? 0)]));
    const rss = new RssSampler(() => known);
    rss.start();
    atBenchEnd(async () => rss.stop());
    return {
      urls: {
        orderIntake: `http://127.0.0.1:${port('order-intake')}`,
        inventory: `http://127.0.0.1:${port('inventory')}`,
        tracking: `http://127.0.0.1:${port('tracking')}`,
        baseline: `http://127.0.0.1:${BASELINE_PORT}`,
      },
      startedHere: flowline !== null,
      logFile: flowline?.logFile ?? null,
      pids: () => known,
      idleRss,
      rss,
      services: BENCH_SERVICES,
      databaseUrl(name: string) {
        if (name === 'baseline') return databaseUrlOf(BASELINE_DB);
        const s = BENCH_SERVICES.find((x) => x.name === name);
        if (!s) throw new Error(`unknown service ${name}`);
        return databaseUrlOf(s.database);
      },
    };
  })();
  return current;
}

