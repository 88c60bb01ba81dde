/**
 * Summaries of V8 .cpuprofile files (node --cpu-prof): self time per function and per package,
 * so a profile of a loaded service reads as "where did its CPU go" in a few lines.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  /** Wall time covered by the profile. */
  wallMs: number;
  /** Sampled time not idle (includes GC and "program"). */
  busyMs: number;
  gcMs: number;
  topFunctions: SelfTime[];
  topPackages: SelfTime[];
}

const IDLE = '(idle)';

/**
 * The npm package (the innermost `node_modules/<name>` in the path) or Flowline lib / service
 * (`flowline libs/<name>`, `flowline services/<name>`) a script path or profiler frame belongs to;
 * null when it is neither.
 */
export function codeOwner(path: string): string | null {
  const modules = [...path.matchAll(/node_modules\/((?:@[^/\s]+\/)?[^/\s]+)/g)];
  if (modules.length > 0) return modules[modules.length - 1][1];
  const own = /(?:^|\/)(libs|services)\/([^/\s]+)\//.exec(path);
  return own ? `flowline ${own[1]}/${own[2]}` : null;
}

/** Where a script comes from: an npm package, a Node internal, or a Flowline lib/service. */
export function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node:internals';
  return codeOwner(url) ?? url.split('/').slice(-2).join('/');
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const m = /(?:^|\/)((?:libs|services)\/.*)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

/** Self time of every function (sample counts times the sampling interval), busiest first. */
export function summarize(p: CpuProfile, top = 15): ProfileSummary {
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const selfUs = new Map<number, number>();
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time from sample i-1 to sample i: charge it to the sample it ends at.
    for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, deltas[i]));
  } else {
    const interval = samples.length > 0 ? (p.endTime - p.startTime) / samples.length : 0;
    for (const n of p.nodes) if (n.hitCount) selfUs.set(n.id, n.hitCount * interval);
  }
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let busy = 0;
  let gc = 0;
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const f = n.callFrame;
    if (f.functionName === IDLE) continue;
    busy += us;
    if (f.functionName === '(garbage collector)') gc += us;
    const name = f.url ? `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}` : f.functionName || '(anonymous)';
    byFn.set(name, (byFn.get(name) ?? 0) + us);
    const pkg = f.url ? packageOf(f.url) : f.functionName;
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return {
    wallMs: Math.round((p.endTime - p.startTime) / 1000),
    busyMs: Math.round(busy / 100) / 10,
    gcMs: Math.round(gc / 100) / 10,
    topFunctions: rank(byFn),
    topPackages: rank(byPkg),
  };
}

export function formatSummary(label: string, s: ProfileSummary): string {
  const lines = [`${label}: busy ${s.busyMs} ms of ${s.wallMs} ms wall (${s.wallMs ? Math.round((s.busyMs / s.wallMs) * 100) : 0}% of a core), GC ${s.gcMs} ms`];
  lines.push('  self time by function:');
  for (const f of s.topFunctions) lines.push(`    ${String(f.share).padStart(5)}%  ${String(f.ms).padStart(8)} ms  ${f.name}`);
  lines.push('  self time by package:');
  for (const f of s.topPackages) lines.push(`    ${String(f.share).padStart(5)}%  ${String(f.ms).padStart(8)} ms  ${f.name}`);
  return lines.join('\n');
}
