/**
 * `npm run bench -- profile` (not part of the default suite): CPU profile of the services under load.
 * Starts Flowline as `npm start` does but with `--cpu-prof` on every service, drives placed-and-paid
 * orders at PROFILE_RATE/s (default 300) for PROFILE_SEC (default 30) seconds (PROFILE_LOAD=intake:
 * POST /api/orders from 32 autocannon connections instead), stops the services (V8 writes the
 * profiles on exit) and prints the top self-time functions and packages of each.
 * PROFILE_TOOL=perf: Linux `perf record -g -a` over the load instead (services with
 * `--perf-basic-prof`), summarised per process (services, postgres, kafka, the bench client) and
 * per package inside each. It samples the CPU clock, so time a process spends waiting for a core is
 * not charged to it, as a V8 profile on an oversubscribed box does (bench/lib/perf-script.ts).
 * Needs the ports free: a running instance can't be profiled.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { postOrders } from './lib/cannon';
import { type CpuProfile, formatSummary, summarize } from './lib/cpuprofile';
import { formatMachineProfile, type MachineProfile, parsePerfScript, profileMachine } from './lib/perf-script';
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
  const withPerf = process.env.PROFILE_TOOL === 'perf';
  if (withPerf) ensurePerf();
  const profFlags = withPerf ? '--perf-basic-prof' : `--cpu-prof --cpu-prof-dir=${dir}`;
  const sys = await ensureSystem(log, { FLOWLINE_NODE_FLAGS: `${SERVICE_NODE_FLAGS} ${profFlags}` });
  if (!sys.startedHere) throw new Error(`Flowline is already running: stop it first, the profile needs services started with ${profFlags}`);
  const pids = sys.pids();
  const runId = newRunId();
  const skus = Array.from({ length: 200 }, (_, i) => `BENCH-E2E-${i}`);
  await ensureFlowlineStock(sys.urls.inventory, skus, 500_000);
  const tracking = await watchStage(sys.urls.tracking, 'ready_to_ship', 'tmall');
  const http = new HttpClient(sys.urls.orderIntake, 512);
  const intake = orderIntakeClient(sys.urls.orderIntake, { fetch: http.fetch });
  let seq = 0;
  // perf's outcome, settled (never a pending rejection while the load runs: Node would exit on it).
  let recording: Promise<Error | null> | null = null;
  const shape = { runId, skus };
  try {
    // Warm-up, then the profiled load (the profile covers the whole process life; the load dominates).
    await flowlineStep({ rate: 50, durationSec: 3, shape, nextIndex: () => seq++ }, intake, (id) => tracking.seenAt(id));
    recording = withPerf ? recordMachine(resolve(dir, 'perf.data'), sec).then(() => null, (e: Error) => e) : null;
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
  const failed = await recording;
  if (failed) {
    await runBenchCleanups();
    throw failed;
  }
  if (withPerf) return summarizeMachine(dir, rate, sec, pids, runBenchCleanups);
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

/** `perf` on the PATH, installed from Debian's linux-perf when it is not (as chromium is for the browser tests). */
function ensurePerf(): void {
  if (spawnSync('perf', ['--version']).status !== 0) {
    log('installing linux-perf (apt-get)');
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'linux-perf'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0 || spawnSync('perf', ['--version']).status !== 0) throw new Error('PROFILE_TOOL=perf needs Linux perf: apt-get install linux-perf failed');
  }
  // Before the services start: a kernel that refuses system-wide sampling fails here, not mid-run.
  const probe = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-a', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`perf cannot sample the whole machine here (perf_event_paranoid, CAP_PERFMON?): ${probe.stderr.trim()}`);
}

/** `perf record -g -a` for `sec` seconds (every process, CPU clock, 499 Hz). */
function recordMachine(file: string, sec: number): Promise<void> {
  return new Promise((done, fail) => {
    // cpu-clock, not the default cycles counter: busy vs idle shares stay comparable on any host.
    const p = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '499', '-g', '-a', '-o', file, '--', 'sleep', String(sec)], { stdio: 'inherit' });
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? done() : fail(new Error(`perf record exited ${code}`))));
  });
}

/**
 * Names a sampled pid: a service, the bench client, postgres, kafka (the broker's JVM), else its
 * process name. Call it while the processes still run: a pid gone by then is named by the comm of
 * the thread sampled first.
 */
function processNamer(pids: Record<string, number>): (pid: number, comm: string) => string {
  const byPid = new Map(Object.entries(pids).map(([name, pid]) => [pid, name]));
  byPid.set(process.pid, 'bench client');
  byPid.set(process.ppid, 'bench runner');
  const cache = new Map<number, string>();
  return (pid, comm) => {
    const known = byPid.get(pid) ?? cache.get(pid);
    if (known) return known;
    let exe = comm;
    let args: string[] = [];
    try {
      exe = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      // the process is gone: its thread's comm is all there is
    }
    // Another Node process (npm start's supervisor, npm itself): named by its script.
    const script = exe.startsWith('node') ? args.slice(1).find((a) => /\.[cm]?[jt]s$/.test(a)) : undefined;
    const name = exe === 'java' ? 'kafka' : exe.startsWith('postgres') ? 'postgres' : script ? `node ${script.split('/').slice(-2).join('/')}` : exe;
    cache.set(pid, name);
    return name;
  };
}

async function summarizeMachine(dir: string, rate: number, sec: number, pids: Record<string, number>, stop: () => Promise<void>): Promise<Figures> {
  const data = resolve(dir, 'perf.data');
  const script = resolve(dir, 'perf.script');
  let profile: MachineProfile;
  try {
    // Symbols of the JIT frames come from /tmp/perf-<pid>.map, written while the services run;
    // process names from /proc while they still run.
    const out = openSync(script, 'w');
    const r = spawnSync('perf', ['script', '-i', data, '-F', 'comm,pid,tid,ip,sym'], { stdio: ['ignore', out, 'ignore'] });
    closeSync(out);
    if (r.status !== 0) throw new Error(`perf script exited ${r.status}`);
    profile = profileMachine(parsePerfScript(readFileSync(script, 'utf8')), processNamer(pids));
  } finally {
    log('stopping the services');
    await stop();
    for (const f of [data, script, ...Object.values(pids).map((pid) => `/tmp/perf-${pid}.map`)]) rmSync(f, { force: true });
  }
  const text = [`perf profile of the end-to-end path at ${rate}/s for ${sec} s (${dir})`, formatMachineProfile(profile)].join('\n');
  writeFileSync(resolve(dir, 'summary.txt'), text);
  console.log(`\n${text}\n`);
  return Object.fromEntries(profile.processes.slice(0, 12).map((p) => [`busy CPU % ${p.name}`, p.pct]));
}
