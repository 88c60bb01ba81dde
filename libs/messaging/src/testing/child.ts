import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from '@flowline/testing';

/** A worker script run as its own Node process (so a test can SIGKILL it for real). */
export interface Worker {
  proc: ChildProcess;
  /** Stdout lines so far. */
  lines: string[];
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a stdout line satisfies `match`. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

/**
 * Starts `libs/messaging/src/testing/<script>.ts` with `node -r @swc-node/register` (TypeScript,
 * tsconfig path aliases) and the given config in `WORKER_CONFIG`.
 */
export function startWorker(script: string, config: Record<string, unknown>, env: Record<string, string> = {}): Worker {
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', resolve(REPO_ROOT, 'libs/messaging/src/testing', `${script}.ts`)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, WORKER_CONFIG: JSON.stringify(config), SWC_NODE_PROJECT: resolve(REPO_ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let buf = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const l of listeners) l(line);
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (process.env.WORKER_DEBUG) process.stderr.write(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  return {
    proc,
    lines,
    exited,
    waitForLine(match, timeoutMs = 60_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          rej(new Error(`worker ${script}: no matching line within ${timeoutMs} ms; stdout: ${lines.slice(-5).join(' | ')}; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const l = (line: string) => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(l);
          res(line);
        };
        listeners.add(l);
        void exited.then(({ code, signal }) => {
          if (!listeners.has(l)) return;
          clearTimeout(timer);
          listeners.delete(l);
          rej(new Error(`worker ${script} exited (${code ?? signal}) before the line; stderr: ${stderr.slice(-2000)}`));
        });
      });
    },
  };
}

/** Parses `{"event": ...}` JSON lines a worker prints. */
export function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
