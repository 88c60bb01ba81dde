import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/embedded-postgres.mjs is the fallback scripts/postgres.sh starts on machines without
 * PostgreSQL. The shared server holds 5432 here, so this runs the same script on a private port
 * and data directory, and checks that a client connects with the default (trust, no password)
 * credentials, writes, reads, and that SIGTERM shuts the server down.
 */
const root = resolve(__dirname, '../../../..');
const port = 55_000 + (randomBytes(2).readUInt16BE(0) % 5_000);
const dataDir = join(tmpdir(), `flowline-embedded-pg-${randomBytes(4).toString('hex')}`);
let child: ChildProcess | undefined;

function portOpen(p: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host: '127.0.0.1', port: p });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}.pid`, { force: true });
});

describe('embedded PostgreSQL fallback', () => {
  it('initialises a cluster, serves trust-auth connections on 127.0.0.1 and stops on SIGTERM', async () => {
    expect(await portOpen(port)).toBe(false);
    const server = spawn(process.execPath, [resolve(root, 'scripts/embedded-postgres.mjs')], {
      env: { ...process.env, EMBEDDED_PG_PORT: String(port), EMBEDDED_PG_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    let output = '';
    server.stderr.on('data', (d) => (output += String(d)));
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`not serving after 90 s:\n${output}`)), 90_000);
      server.stdout.on('data', (d) => {
        output += String(d);
        if (output.includes(`serving on 127.0.0.1:${port}`)) {
          clearTimeout(timer);
          ready();
        }
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`exited ${code}:\n${output}`));
      });
    });

    const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await client.connect();
    try {
      const version = await client.query<{ server_version: string }>('SHOW server_version');
      expect(version.rows[0].server_version).toMatch(/^15\./);
      await client.query('CREATE TABLE probe (id int PRIMARY KEY, note text)');
      await client.query("INSERT INTO probe VALUES (1, 'kept')");
      const rows = await client.query('SELECT note FROM probe WHERE id = 1');
      expect(rows.rows).toEqual([{ note: 'kept' }]);
    } finally {
      await client.end();
    }

    const exited = new Promise<number | null>((done) => server.once('exit', (code) => done(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await portOpen(port)).toBe(false);
  }, 120_000);
});
