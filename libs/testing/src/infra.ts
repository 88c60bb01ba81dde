import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';

/** Repository root (libs/testing/src -> ../../..). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** Admin connection string: DATABASE_URL's server, database `postgres`. */
export function adminDatabaseUrl(): string {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const u = new URL(base);
  u.pathname = '/postgres';
  return u.toString();
}

export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Short random suffix for isolating a test file's database and topics. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Id of this test run, set by the integration global setup (libs/testing/src/global-setup.ts) and
 * inherited by the workers; every topic prefix of the run starts with `t<run>`, which is how the
 * teardown deletes this run's topics and only them (other runs share the broker).
 */
export const TEST_RUN_ENV = 'FLOWLINE_TEST_RUN';

/** A topic prefix private to one test file, e.g. `t3f9a_1c2e8b7d.` (`t<run>_<file>.` inside a run). */
export function testTopicPrefix(): string {
  const run = process.env[TEST_RUN_ENV];
  return run ? `t${run}_${uniqueSuffix()}.` : `t${uniqueSuffix()}.`;
}

/** The prefix every topic of the run `run` starts with. */
export function runTopicPrefix(run: string): string {
  return `t${run}_`;
}

/**
 * Creates a fresh database for one test file and returns its URL and a drop function.
 * Test files never share tables, so they can run in parallel against one server.
 */
export async function createTestDatabase(label: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `t_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase().slice(0, 40)}_${uniqueSuffix()}`;
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminDatabaseUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: adminDatabaseUrl() });
      await c.connect();
      try {
        // A pool's end() resolves before its clients' sockets have closed: give them a moment
        // (up to 2 s) so FORCE does not terminate a client that is already closing, whose 57P01
        // would surface as an uncaught error in the test process. Anything still connected after
        // that (a leak) is terminated as before.
        for (let i = 0; i < 40; i++) {
          const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Runs `body` while a transaction of another, fresh database holds a transaction id (`xid`, xid8
 * text): what a log horizon test needs from "the rest of the cluster". Rolled back and the
 * database dropped afterwards.
 */
export async function withTransactionInOtherDatabase(label: string, body: (xid: string) => Promise<void>): Promise<void> {
  const other = await createTestDatabase(label);
  const client = new Client({ connectionString: other.url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    const xid = (await client.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0].x;
    await body(xid);
    await client.query('ROLLBACK');
  } finally {
    await client.end().catch(() => undefined);
    await other.drop();
  }
}

/**
 * Brings up the real infrastructure the integration tests need, reusing running instances:
 * Kafka through scripts/kafka.sh, PostgreSQL through scripts/postgres.sh.
 */
export function ensureInfrastructure(): void {
  if (process.env.FLOWLINE_SKIP_INFRA === '1') return;
  execFileSync('bash', [resolve(REPO_ROOT, 'scripts/postgres.sh'), 'start'], { stdio: 'inherit' });
  execFileSync('bash', [resolve(REPO_ROOT, 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' });
}

/** A PostgreSQL server of a test's own (for tests that stop and start the server itself). */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/<name> */
  url(database: string): string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: a crash, as the server sees it. */
  crash(): void;
  start(): void;
  destroy(): void;
}

/**
 * initdb / pg_ctl: from the PATH, else from Debian's versioned folder (/usr/lib/postgresql/<major>/bin,
 * the newest), which the postgresql package does not put on the PATH. Undefined when neither has it.
 */
export function postgresBinary(cmd: 'initdb' | 'pg_ctl'): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    const base = '/usr/lib/postgresql';
    const majors = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    return majors.map((v) => `${base}/${v}/bin/${cmd}`).find((f) => existsSync(f));
  }
}

/**
 * Why a private PostgreSQL cannot run here (undefined when it can): it needs initdb/pg_ctl (PATH or
 * /usr/lib/postgresql/<major>/bin) and, as root, the `postgres` OS user (initdb refuses to run as root).
 */
export function privatePostgresUnavailable(): string | undefined {
  const has = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!postgresBinary('initdb') || !postgresBinary('pg_ctl')) return 'initdb / pg_ctl not found (PATH, /usr/lib/postgresql/<major>/bin)';
  if (process.getuid?.() === 0 && !has('runuser')) return 'running as root without runuser to drop to the postgres user';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no postgres OS user';
    }
  }
  return undefined;
}

/**
 * Starts a throwaway PostgreSQL cluster (trust auth) on `port`, in a temporary directory. The
 * shared server is never touched: other test files keep using it while this one crashes its own.
 * `settings`: extra server parameters (`-c name=value`) for this cluster only, on every start.
 */
export function startPrivatePostgres(port: number, settings: Record<string, string> = {}): PrivatePostgres {
  const dir = execFileSync('mktemp', ['-d', '/tmp/flowline-pg-XXXXXX']).toString().trim();
  // Run as the postgres OS user when root (initdb refuses root); a failure names the command and carries its stderr.
  const asPg = (name: 'initdb' | 'pg_ctl', args: string[]) => {
    const cmd = postgresBinary(name) ?? name;
    try {
      return process.getuid?.() === 0
        ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
        : execFileSync(cmd, args, { stdio: 'pipe' });
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${err.stderr?.toString().trim() || err.stdout?.toString().trim() || err.message}`);
    }
  };
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  asPg('initdb', ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const extra = Object.entries(settings)
    .map(([name, value]) => ` -c ${name}=${value}`)
    .join('');
  const start = () => asPg('pg_ctl', ['-D', `${dir}/data`, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off${extra}`, '-l', `${dir}/log`, '-w', 'start']);
  start();
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    crash: () => asPg('pg_ctl', ['-D', `${dir}/data`, '-m', 'immediate', 'stop']),
    start,
    destroy() {
      try {
        asPg('pg_ctl', ['-D', `${dir}/data`, '-m', 'immediate', 'stop']);
      } catch {
        // already down
      }
      execFileSync('rm', ['-rf', dir]);
    },
  };
}
