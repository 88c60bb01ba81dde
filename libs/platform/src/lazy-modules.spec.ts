import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { addReflection, DescriptorIndex } from './grpc/grpc-reflection';

const ROOT = resolve(__dirname, '../../..');

/**
 * Runs `body` in a fresh Node process that has loaded lazy-modules.ts first (as @flowline/platform
 * does), so the CommonJS cache starts empty whatever this test worker has loaded already.
 */
function inFreshProcess(body: string): Record<string, unknown> {
  const script = `require(${JSON.stringify(resolve(__dirname, 'lazy-modules.ts'))});
const loaded = (part) => Object.keys(require.cache).some((p) => p.includes(part));
const out = {};
${body}
process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('deferUnusedModules (idle memory, issue #10 item 6)', () => {
  it('gives a postgres DataSource TypeORM\'s PostgresDriver without loading the other 16 drivers', () => {
    // Driver classes only: typeorm's index itself requires sqlserver/MssqlParameter (a few lines).
    const out = inFreshProcess(`
const { DataSource } = require('typeorm');
const { PostgresDriver } = require('typeorm/driver/postgres/PostgresDriver');
const ds = new DataSource({ type: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none' });
out.postgres = ds.driver instanceof PostgresDriver;
out.otherDriversLoaded = ['/sap/SapDriver', '/mysql/MysqlDriver', '/sqlserver/SqlServerDriver', '/oracle/OracleDriver', '/spanner/SpannerDriver', '/cockroachdb/CockroachDriver', '/sqljs/SqljsDriver'].filter(loaded);`);
    expect(out).toEqual({ postgres: true, otherDriversLoaded: [] });
  });

  it('still builds any other driver through TypeORM\'s own factory, loaded on that first use', () => {
    const out = inFreshProcess(`
const { DataSource } = require('typeorm');
out.before = loaded('/driver/cockroachdb/');
const ds = new DataSource({ type: 'cockroachdb', url: 'postgres://nobody@127.0.0.1:1/none', timeTravelQueries: false });
out.driver = ds.driver.constructor.name;
out.after = loaded('/driver/cockroachdb/');
try { new DataSource({ type: 'no-such-db' }); } catch (e) { out.unknown = e.name; }`);
    expect(out).toEqual({ before: false, driver: 'CockroachDriver', after: true, unknown: 'MissingDriverError' });
  });

  it('loads libphonenumber-js only when class-validator first checks a phone number, which still validates', () => {
    const out = inFreshProcess(`
const { isPhoneNumber, isEmail } = require('class-validator');
out.atImport = loaded('libphonenumber-js/metadata.max');
out.email = isEmail('a@example.com');
out.afterOtherValidator = loaded('libphonenumber-js/metadata.max');
out.valid = isPhoneNumber('+8613800138000');
out.invalid = isPhoneNumber('12345');
out.wrongRegion = isPhoneNumber('+8613800138000', 'US');
out.afterPhone = loaded('libphonenumber-js/metadata.max');`);
    expect(out).toEqual({ atImport: false, email: true, afterOtherValidator: false, valid: true, invalid: false, wrongRegion: false, afterPhone: true });
  });
});

describe('addReflection with an index factory', () => {
  it('builds the descriptor index on the first reflection request only, and once', () => {
    const handlers: Array<(call: EventEmitter & { write(m: unknown): void; end(): void }) => void> = [];
    const server = { addService: (_def: unknown, impl: { ServerReflectionInfo: (typeof handlers)[number] }) => handlers.push(impl.ServerReflectionInfo) } as unknown as Server;
    let built = 0;
    addReflection(server, () => {
      built++;
      return new DescriptorIndex([], []);
    });
    expect(handlers).toHaveLength(2); // v1 and v1alpha
    expect(built).toBe(0);
    const written: unknown[] = [];
    for (const handler of handlers) {
      const call = Object.assign(new EventEmitter(), { write: (m: unknown) => void written.push(m), end: () => undefined });
      handler(call);
      call.emit('data', { message_request: 'list_services', list_services: '' });
    }
    expect(built).toBe(1);
    expect(written).toEqual([
      expect.objectContaining({ list_services_response: { service: [] } }),
      expect.objectContaining({ list_services_response: { service: [] } }),
    ]);
  });
});
