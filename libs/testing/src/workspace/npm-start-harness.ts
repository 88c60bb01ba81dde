import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { adminDatabaseUrl, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '../infra';

/**
 * Runs `npm start` (scripts/start.ts) as a user would, beside whatever else uses the machine: its
 * own ports (FLOWLINE_PORT_OFFSET), databases (FLOWLINE_DB_PREFIX) and topics (KAFKA_TOPIC_PREFIX,
 * deleted with the run's other topics by the integration teardown), against the running Kafka and
 * PostgreSQL. Output is collected (JSON log lines and `[start]` lines: stdout is not a terminal).
 */

/** The service list of scripts/services.ts: default ports before the offset. */
export const DEFAULT_PORTS: Record<string, { http: number; grpc: number }> = {
  'order-intake': { http: 3001, grpc: 50051 },
  inventory: { http: 3002, grpc: 50052 },
  approval: { http: 3003, grpc: 50053 },
  fulfillment: { http: 3004, grpc: 50054 },
  notification: { http: 3005, grpc: 50055 },
  tracking: { http: 3006, grpc: 50056 },
  'channel-gateway': { http: 3007, grpc: 50057 },
  analytics: { http: 3008, grpc: 50058 },
  console: { http: 3009, grpc: 50059 },
};

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/** The kernel's range for outgoing connections' local ports (Linux default 32768-60999). */
function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // not Linux: assume its default
  }
  return [32768, 60999];
}

/**
 * The offsets to draw from (multiples of 10 up to start.ts' 15000) whose ports all lie outside the
 * ephemeral range. A port inside it can be taken, between the check here and the service's bind
 * (a fresh clone installs and builds for a minute first), as the local port of some other process's
 * outgoing connection: CI once saw tracking's gRPC port (55376) held that way for two minutes
 * (EADDRINUSE on every restart). The default gRPC ports (50051..) sit inside Linux's default range,
 * so the offsets that move them above it are preferred; any offset when none qualifies.
 */
export function portOffsetCandidates(services: string[], [low, high]: [number, number] = ephemeralPortRange()): number[] {
  const all = Array.from({ length: 1401 }, (_, i) => 1000 + 10 * i);
  const portsOf = (offset: number) => [4400 + offset, ...services.flatMap((s) => [DEFAULT_PORTS[s].http + offset, DEFAULT_PORTS[s].grpc + offset])];
  const outside = all.filter((offset) => portsOf(offset).every((p) => (p < low || p > high) && p <= 65535));
  return outside.length > 0 ? outside : all.filter((offset) => portsOf(offset).every((p) => p <= 65535));
}

/** An offset under which every HTTP and gRPC port of `services` is free (see portOffsetCandidates). */
export async function freePortOffset(services: string[]): Promise<number> {
  const candidates = portOffsetCandidates(services);
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = candidates[Math.floor(Math.random() * candidates.length)];
    const ports = services.flatMap((s) => [DEFAULT_PORTS[s].http + offset, DEFAULT_PORTS[s].grpc + offset]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return offset;
  }
  throw new Error('no free port offset found');
}

export interface NpmStart {
  child: ChildProcess;
  offset: number;
  dbPrefix: string;
  topicPrefix: string;
  /** Everything printed so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  httpPort(service: string): number;
  /** Polls `/health/ready` of `service` until 200. */
  waitReady(service: string, timeoutMs: number): Promise<void>;
  /** Waits until `re` matches the output. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Pids of the service processes (`node ... services/<name>/src/main`) under this npm start. */
  servicePids(service?: string): number[];
  /** SIGTERM to the whole npm process group; resolves with how it ended. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Drops the databases this run created. */
  dropDatabases(): Promise<void>;
}

/** Every process under `root` (pid, args), from `ps`. */
export function descendants(root: number): { pid: number; args: string }[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const out: { pid: number; args: string }[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    for (const r of rows) {
      if (r.ppid === p) {
        out.push({ pid: r.pid, args: r.args });
        queue.push(r.pid);
      }
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function npmStart(cwd: string, args: string[], services: string[], extraEnv: Record<string, string> = {}): Promise<NpmStart> {
  const offset = await freePortOffset(services);
  const dbPrefix = `t_start_${uniqueSuffix()}_`;
  const topicPrefix = testTopicPrefix();
  let out = '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLOWLINE_PORT_OFFSET: String(offset),
    FLOWLINE_DB_PREFIX: dbPrefix,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    DATABASE_URL: adminDatabaseUrl(),
    LOG_FORMAT: 'json',
    ...extraEnv,
  };
  // vitest's own settings must not leak into the services (NODE_ENV=test changes defaults).
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  delete env.NODE_ENV;
  const child = spawn('npm', ['start', '--', ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const tail = () => out.split('\n').slice(-40).join('\n');
  const h: NpmStart = {
    child,
    offset,
    dbPrefix,
    topicPrefix,
    output: () => out,
    exited,
    httpPort: (s) => DEFAULT_PORTS[s].http + offset,
    async waitReady(service, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before ${service} was ready:\n${tail()}`);
        try {
          const res = await fetch(`http://127.0.0.1:${h.httpPort(service)}/health/ready`, { signal: AbortSignal.timeout(2_000) });
          if (res.ok) return;
          last = `HTTP ${res.status}`;
        } catch (e) {
          last = (e as Error).message;
        }
        await new Promise((w) => setTimeout(w, 500));
      }
      throw new Error(`${service} not ready within ${timeoutMs / 1000} s (${last}):\n${tail()}`);
    },
    async waitForOutput(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`no output matching ${re} within ${timeoutMs / 1000} s:\n${tail()}`);
        await new Promise((w) => setTimeout(w, 200));
      }
    },
    servicePids(service) {
      const re = new RegExp(`services/${service ?? '[a-z-]+'}/src/main\\.(js|ts)`);
      return descendants(child.pid!).filter((p) => re.test(p.args)).map((p) => p.pid);
    },
    async stop(timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
      const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      const r = await Promise.race([exited, t]);
      if (r === 'timeout') {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        throw new Error(`npm start did not stop within ${timeoutMs / 1000} s of SIGTERM:\n${tail()}`);
      }
      return r;
    },
    async dropDatabases() {
      const admin = new Client({ connectionString: adminDatabaseUrl() });
      await admin.connect();
      try {
        const r = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${dbPrefix}%`]);
        for (const { datname } of r.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
  return h;
}
