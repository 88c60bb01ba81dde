import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../bootstrap';

export interface ServiceProcess {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /**
   * Sends a signal and resolves with how the process ended. bootstrapService exits with code 0
   * once every shutdown hook ran; SIGKILL after `timeoutMs` otherwise.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartServiceOptions {
  /** Folder under services/, e.g. `inventory`. */
  service: string;
  /** Extra environment (DATABASE_URL, KAFKA_BROKERS, ...); HTTP_PORT / GRPC_PORT are chosen here. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for /health/ready to answer 200. */
  readyTimeoutMs?: number;
  /** Repository root (default: found from this file). */
  root?: string;
}

function repoRoot(): string {
  for (const up of ['../../../..', '../../../../..']) {
    const candidate = resolve(__dirname, up);
    if (existsSync(resolve(candidate, 'services')) && existsSync(resolve(candidate, 'libs'))) return candidate;
  }
  return process.cwd();
}

/**
 * Starts a service the way `npm start -- --ts` does (`node -r @swc-node/register
 * services/<name>/src/main.ts`) on free ports, and waits until /health/ready answers 200.
 * For boot smoke tests: proves main.ts, instrument.ts and the module wiring really start.
 *
 * With FLOWLINE_SERVICE_DIST=1 (set by .ci/run right after `npm run build`) it starts the build
 * instead, the way `npm start` does (`node dist/services/<name>/src/main.js`): the artifact that
 * ships, and about a second of CPU less per start than compiling the TypeScript on every boot.
 * Without it a test always runs the current source, built or not.
 */
export async function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  // A free port is free when probed, not when the child binds it: another test worker may take it
  // in between (EADDRINUSE at boot). Such a start is tried again on new ports, twice at most.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
    }
  }
}

/** How a service's main starts: from the build when FLOWLINE_SERVICE_DIST=1, else from its TypeScript. */
export function entryArgs(root: string, service: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.FLOWLINE_SERVICE_DIST !== '1') return ['-r', '@swc-node/register', `services/${service}/src/main.ts`];
  const main = `dist/services/${service}/src/main.js`;
  if (!existsSync(resolve(root, main))) throw new Error(`FLOWLINE_SERVICE_DIST=1 but ${main} is missing: run npm run build first`);
  return ['--import', './dist/enable-source-maps.mjs', main];
}

/** A build of the repository that tests start compiled services from (`node <dir>/services/<name>/src/main.js`). */
export interface TestBuild {
  /** Relative to the repository root. */
  readonly dir: string;
  /** Builds it (scripts/build.sh), or checks that `dist/` is there when it is reused. */
  make(): void;
  /** Removes a private build; `dist/` stays. */
  remove(): void;
}

/**
 * `dist/` itself when FLOWLINE_SERVICE_DIST=1 (CI built it just before the tests), else the private
 * folder `privateDir` built by `make()`, so a test never runs a stale build.
 */
export function testBuild(root: string, privateDir: string, env: NodeJS.ProcessEnv = process.env): TestBuild {
  if (env.FLOWLINE_SERVICE_DIST === '1') {
    return {
      dir: 'dist',
      make: () => {
        if (!existsSync(resolve(root, 'dist/enable-source-maps.mjs'))) throw new Error('FLOWLINE_SERVICE_DIST=1 but dist/ is not built: run npm run build first');
      },
      remove: () => undefined,
    };
  }
  return {
    dir: privateDir,
    make: () => void execFileSync('bash', ['scripts/build.sh', privateDir], { cwd: root, stdio: 'ignore' }),
    remove: () => rmSync(resolve(root, privateDir), { recursive: true, force: true }),
  };
}

/** The child exited before ready because a port it was given had been taken meanwhile. */
class PortTaken extends Error {}

async function startOnce(options: StartServiceOptions): Promise<ServiceProcess> {
  const root = options.root ?? repoRoot();
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, entryArgs(root, options.service), {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, HTTP_PORT: String(httpPort), GRPC_PORT: String(grpcPort), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // On 'exit', the last of the child's output may still be unread: wait for its pipes to end, but
  // at most 1 s ('close' itself could wait for ever on a grandchild that inherited the pipes).
  const ended = (s: NodeJS.ReadableStream | null) => (s && !(s as { readableEnded?: boolean }).readableEnded ? new Promise<void>((res) => s.once('end', () => res())) : Promise.resolve());
  const exited = new Promise<ProcessExit>((r) =>
    child.once('exit', (code, signal) => {
      const settle = () => r({ code, signal });
      const timer = setTimeout(settle, 1_000);
      void Promise.all([ended(child.stdout), ended(child.stderr)]).then(() => {
        clearTimeout(timer);
        settle();
      });
    }),
  );

  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let lastStatus = 'no answer';
  for (;;) {
    if (child.exitCode !== null) {
      const message = `${options.service} exited with ${child.exitCode} before ready:\n${output}`;
      throw output.includes('EADDRINUSE') ? new PortTaken(message) : new Error(message);
    }
    try {
      const res = await fetch(`${httpUrl}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      if (res.status === 200) break;
      lastStatus = `${res.status} ${await res.text()}`;
    } catch (error) {
      lastStatus = String(error);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.service} not ready in time (last: ${lastStatus}):\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    httpUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
