/**
 * Whole-machine CPU profile from Linux `perf` (`perf record -g -a`, then `perf script -F
 * comm,pid,tid,ip,sym`): every process on the box sampled on the CPU clock, so a process waiting
 * for a core is not charged (a V8 .cpuprofile on an oversubscribed box charges that wait to
 * whatever function was on the stack). Node services must run with `--perf-basic-prof` for their
 * JIT frames to carry names. Summarised per process, and per package inside each Node process.
 * Process shares and native categories (GC, JIT compiler, epoll) are exact; package shares are
 * approximate, since V8's perf map goes stale where code is freed and its address reused.
 */
import { codeOwner } from './cpuprofile';

export interface PerfSample {
  comm: string;
  pid: number;
  /** Leaf first, as `perf script` prints them. */
  frames: string[];
}

export interface Share {
  name: string;
  /** Per cent of the process's samples (or of all busy samples, for processes). */
  pct: number;
}

export interface ProcessProfile {
  name: string;
  samples: number;
  /** Per cent of all busy (non-idle) samples on the machine. */
  pct: number;
  /**
   * Each sample charged to its leaf-most package frame, or to a native category (GC and the JIT
   * compiler even when entered from JS); to its leaf function where no sample has a JS frame.
   */
  self: Share[];
  /** Each sample charged once to every package on its stack. */
  inclusive: Share[];
}

export interface MachineProfile {
  /** Samples outside the idle task. */
  busySamples: number;
  /** Samples of the idle task (CPU time nobody used). */
  idleSamples: number;
  processes: ProcessProfile[];
}

// `comm pid/tid`, or `comm pid/tid ip sym` when perf printed no callchain; comm may hold spaces.
const HEADER = /^(\S.*?)\s+(\d+)\/(\d+)(?:\s+(.*))?$/;

/** A frame line without its leading address. */
const frameName = (line: string) => line.trim().replace(/^[0-9a-f]+\s+/, '');

/** `perf script -F comm,pid,tid,ip,sym` text -> samples. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      current = null;
      continue;
    }
    // Frames are indented; anything else starts a sample.
    if (/^\s/.test(line)) {
      current?.frames.push(frameName(line));
      continue;
    }
    const header = HEADER.exec(line);
    if (!header) continue;
    current = { comm: header[1], pid: Number(header[2]), frames: header[4]?.trim() ? [frameName(header[4])] : [] };
    samples.push(current);
  }
  return samples;
}

/** The npm package, Flowline lib/service or Node internals a JS frame belongs to; null for native frames. */
export function packageOfFrame(frame: string): string | null {
  const owner = codeOwner(frame);
  if (owner) return owner;
  if (/^(JS|Eval):/.test(frame) && /\b(node:|internal\/)/.test(frame)) return 'node:internals';
  return null;
}

/** What a sample's native frames (or a sample with no package frame) were doing. */
export function nativeCategory(frames: readonly string[]): string {
  const stack = frames.join(' ');
  if (/Scaveng|MarkCompact|ConcurrentMarking|MarkingVisitor|Sweeper|IncrementalMarking|MinorMS/.test(stack)) return '(V8 GC)';
  if (/Compil|maglev|Maglev|turboshaft|TurboFan/.test(stack)) return '(JIT compiler)';
  if (/epoll_wait|epoll_pwait/.test(stack)) return '(epoll wait)';
  if (/\buv_|uv__/.test(stack)) return '(libuv)';
  return '(native)';
}

const isIdle = (s: PerfSample) => s.pid === 0 || s.comm === 'swapper';

function shares(counts: Map<string, number>, total: number, top: number): Share[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => ({ name, pct: Math.round((1000 * n) / total) / 10 }));
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Per-process profile. `processOf` names a pid (a service, postgres, kafka...); samples of pids it
 * does not name are grouped under their thread's comm.
 */
export function profileMachine(samples: readonly PerfSample[], processOf: (pid: number, comm: string) => string, top = 15): MachineProfile {
  const groups = new Map<string, PerfSample[]>();
  let idle = 0;
  for (const s of samples) {
    if (isIdle(s)) {
      idle++;
      continue;
    }
    const name = processOf(s.pid, s.comm);
    const g = groups.get(name);
    if (g) g.push(s);
    else groups.set(name, [s]);
  }
  const busy = samples.length - idle;
  const processes = [...groups.entries()].map(([name, group]) => {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const leaves = new Map<string, number>();
    for (const s of group) {
      const packages = s.frames.map(packageOfFrame);
      const jsAt = packages.findIndex((p) => p !== null);
      // GC or the compiler entered from JS (an allocation, a hot function) is theirs, not the package's.
      const native = nativeCategory(jsAt < 0 ? s.frames : s.frames.slice(0, jsAt));
      const runtime = native === '(V8 GC)' || native === '(JIT compiler)';
      bump(self, jsAt < 0 || runtime ? native : (packages[jsAt] as string));
      for (const p of new Set(packages)) if (p !== null) bump(inclusive, p);
      bump(leaves, s.frames[0] ?? '(no frames)');
    }
    // A process with no JS frames (postgres, the JVM): its leaf functions say more than "(native)".
    const noJs = inclusive.size === 0;
    return {
      name,
      samples: group.length,
      pct: Math.round((1000 * group.length) / Math.max(1, busy)) / 10,
      self: shares(noJs ? leaves : self, group.length, top),
      inclusive: shares(inclusive, group.length, top),
    };
  });
  processes.sort((a, b) => b.samples - a.samples);
  return { busySamples: busy, idleSamples: idle, processes };
}

/** The profile as text: processes by share of busy CPU, then each big one's packages. */
export function formatMachineProfile(p: MachineProfile, minPct = 2): string {
  const all = p.busySamples + p.idleSamples;
  const lines = [`busy ${Math.round((1000 * p.busySamples) / Math.max(1, all)) / 10}% of the sampled CPU time (${p.busySamples} samples, ${p.idleSamples} idle)`];
  const shown = p.processes.filter((x) => x.pct >= 0.5);
  const rest = Math.round(10 * p.processes.filter((x) => x.pct < 0.5).reduce((sum, x) => sum + x.pct, 0)) / 10;
  lines.push(`by process: ${[...shown.map((x) => `${x.name} ${x.pct}%`), `others ${rest}%`].join(', ')}`);
  for (const x of p.processes.filter((q) => q.pct >= minPct)) {
    lines.push('', `${x.name} (${x.pct}% of busy CPU)`);
    lines.push(`  self:      ${x.self.map((s) => `${s.name} ${s.pct}%`).join(', ')}`);
    if (x.inclusive.length > 0) lines.push(`  inclusive: ${x.inclusive.map((s) => `${s.name} ${s.pct}%`).join(', ')}`);
  }
  return lines.join('\n');
}
