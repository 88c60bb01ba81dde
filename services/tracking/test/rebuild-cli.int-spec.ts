import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { kafkaBrokers, REPO_ROOT } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveProjector } from '../src/application/live-projector';
import { TrackingQueries } from '../src/application/tracking-queries';
import { systemClock } from '../src/infra/clock';
import { eventually, testLogger, trackingHarness } from './fixtures/harness';
import { mixedWorkload } from './fixtures/workload';

/* The rebuild CLI, as an operator runs it next to a running service: build and compare, then swap. */

let h: Awaited<ReturnType<typeof trackingHarness>>;
let projector: LiveProjector;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', resolve(REPO_ROOT, 'services/tracking/src/cli/rebuild.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: h.db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: h.prefix, TRACKING_CONSUMER_GROUP: h.config.consumerGroup },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  h = await trackingHarness('tracking_cli');
  projector = new LiveProjector(h.dataSource, h.kafka, h.config, systemClock, testLogger);
  await projector.start();
  await h.publish(mixedWorkload({ orders: 300, seed: 5, idPrefix: 'cli' }).messages);
  await eventually('catch-up', async () => ((await projector.measureLag()).every((l) => l.events === 0) ? true : undefined), 120_000, 200);
}, 180_000);

afterAll(async () => {
  await projector?.stop();
  await h?.close();
});

describe('rebuild CLI', () => {
  it('--no-swap builds next to live, prints equal checksums and drops its schema', async () => {
    const r = await cli(['--no-swap']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { equal: boolean; report: { swapped: boolean; orders: number; schema: string } };
    expect(out).toMatchObject({ equal: true, report: { swapped: false, orders: 300 } });
    const left = await h.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [out.report.schema]);
    expect(left.rowCount).toBe(0);
  }, 120_000);

  it('swaps the rebuilt tables in while the live projector runs; the checksum is unchanged', async () => {
    const queries = new TrackingQueries(h.dataSource, h.config.sla, systemClock);
    const before = await queries.checksum();
    const r = await cli([]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { report: { swapped: boolean }; checksum: { checksum: string } };
    expect(out.report.swapped).toBe(true);
    expect(out.checksum.checksum).toBe(before.checksum);
    expect((await queries.checksum()).checksum).toBe(before.checksum);
  }, 120_000);

  it('refuses unknown options', async () => {
    expect((await cli(['--frobnicate'])).code).toBe(2);
  });
});
