/**
 * memory-idle: idle VmRSS of every service started ALONE as `npm start` starts it
 * (`scripts/start.ts --only <service> --no-seed --no-fakes`: SWC build, the service's V8 flags from
 * scripts/services.ts, its env), read from /proc/<pid>/status once the service is ready and has
 * settled for MEMORY_IDLE_SETTLE_SEC (default 20 s). One service at a time, so no neighbour's load
 * or boot skews the figure (the `memory` workload's idle figure is taken 3 s after the whole
 * system booted together). Also reports RssAnon (heap + native) vs RssFile (mapped code) and the
 * V8 heap used from the service's /metrics when it serves prom-client's nodejs_heap_size_used_bytes.
 *
 * Runs beside a development system: ports moved by MEMORY_IDLE_PORT_OFFSET (default 400), its own
 * databases (`memidle_flowline_*`) and topics (`memidle.*`; MEMORY_IDLE_PREFIX changes `memidle`).
 * FLOWLINE_NODE_FLAGS, when set, replaces the services' V8 flags as it does for `npm start` (to
 * compare flags). Only when named: `npm run bench -- memory-idle` (MEMORY_IDLE_SERVICES=a,b limits
 * the list).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICES } from '../../scripts/services';
import type { Figures } from '../lib/harness';
import { pidListeningOn } from '../lib/procs';

const ROOT = resolve(__dirname, '../..');
const log = (m: string) => console.log(`[memory-idle] ${m}`);
export const IDLE_AIM_MIB = 150;

/** VmRSS, RssAnon and RssFile of a process in MiB (undefined when it is gone). */
export function statusMiB(pid: number): { rss: number; anon: number; file: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(s)?.[1] ?? NaN) / 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function heapUsedMiB(port: number): Promise<number | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(await r.text());
    return m ? Math.round(Number(m[1]) / 1048576) : undefined;
  } catch {
    return undefined;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 40_000);
  await exited;
  clearTimeout(t);
}

export async function run(): Promise<Figures> {
  const offset = Number(process.env.MEMORY_IDLE_PORT_OFFSET ?? 400);
  const settleSec = Number(process.env.MEMORY_IDLE_SETTLE_SEC ?? 20);
  // Databases memidle_flowline_* and topics memidle.* (MEMORY_IDLE_PREFIX: to run two at once).
  const prefix = process.env.MEMORY_IDLE_PREFIX ?? 'memidle';
  const only = process.env.MEMORY_IDLE_SERVICES?.split(',').map((s) => s.trim()).filter(Boolean);
  const services = SERVICES.filter((s) => !only || only.includes(s.name));
  const dir = resolve(ROOT, '.data/bench');
  mkdirSync(dir, { recursive: true });
  const f: Figures = {};
  let over = 0;
  // MEMORY_IDLE_NO_BUILD=1: reuse dist/ (e.g. runs side by side comparing V8 flags).
  let built = process.env.MEMORY_IDLE_NO_BUILD === '1';
  for (const svc of services) {
    const port = svc.httpPort + offset;
    if (pidListeningOn(port) !== undefined) throw new Error(`port ${port} is in use: another memory-idle run?`);
    const logFile = resolve(dir, `memory-idle-${prefix}-${svc.name}.log`);
    const fd = openSync(logFile, 'w');
    // The first start builds dist/ as npm start does; the others reuse it.
    const args = ['-r', '@swc-node/register', 'scripts/start.ts', '--only', svc.name, '--no-seed', '--no-fakes', ...(built ? ['--no-build'] : [])];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NO_COLOR: '1', FLOWLINE_PORT_OFFSET: String(offset), FLOWLINE_DB_PREFIX: `${prefix}_`, KAFKA_TOPIC_PREFIX: `${prefix}.` },
    });
    closeSync(fd);
    built = true;
    try {
      const deadline = Date.now() + 300_000;
      while (!(await ready(port))) {
        if (child.exitCode !== null) throw new Error(`${svc.name}: scripts/start.ts exited (${child.exitCode}); see ${logFile}`);
        if (Date.now() > deadline) throw new Error(`${svc.name}: not ready in 300 s; see ${logFile}`);
        await new Promise((w) => setTimeout(w, 500));
      }
      await new Promise((w) => setTimeout(w, settleSec * 1000));
      const pid = pidListeningOn(port);
      const s = pid === undefined ? undefined : statusMiB(pid);
      if (!s) throw new Error(`${svc.name}: no process on port ${port}`);
      const heap = await heapUsedMiB(port);
      log(`${svc.name}: VmRSS ${s.rss.toFixed(0)} MiB (anon ${s.anon.toFixed(0)}, file ${s.file.toFixed(0)}), V8 heap used ${heap ?? 'n/a'} MiB`);
      f[`RSS MiB idle alone ${svc.name}`] = Math.round(s.rss);
      f[`detail.RssAnon / RssFile / heap used MiB ${svc.name}`] = `${Math.round(s.anon)} / ${Math.round(s.file)} / ${heap ?? 'n/a'}`;
      if (s.rss > IDLE_AIM_MIB) over++;
    } catch (e) {
      f[`RSS MiB idle alone ${svc.name}`] = `error: ${e instanceof Error ? e.message : String(e)}`;
      log(String(e));
    } finally {
      await stop(child);
    }
  }
  f[`services over ${IDLE_AIM_MIB} MiB idle`] = over;
  f.settleSec = settleSec;
  return f;
}
