import { type ChildProcess, spawn } from 'node:child_process';
import { Topics } from '@flowline/contracts';
import { createKafka, groupHasOffsets, TopicNames } from '@flowline/messaging';
import { freePort, testBuild } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A service killed with SIGKILL and started again serves HTTP (health probes included) while its
 * consumer group waits for the dead member's session to expire (30 s), and its consumer joins
 * afterwards by itself. Found by a fault-injection audit: fulfillment and notification answered
 * nothing, not even /health/live, for ~30 s after a restart (their boot waited for the group join),
 * long enough for a liveness probe to kill the new pod too. order-intake, inventory and tracking
 * already joined in the background (restart.e2e-spec.ts); this covers the others.
 */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const build = testBuild(REPO_ROOT, `.data/crash-rejoin-e2e-${uniqueSuffix()}`);
const BUILD_DIR = build.dir;
// A 30 s session (the default is 10 s): the check that a restarted service serves while its dead
// member still holds its place needs that place held longer than a boot takes on a loaded machine.
const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', KAFKA_SESSION_TIMEOUT_MS: '30000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const children = new Set<ChildProcess>();
let admin: Admin;

interface Case {
  service: string;
  /** The consumer group whose rejoin a restart waits for, and the env naming it. */
  group: string;
  env: Record<string, string>;
}

const suffix = uniqueSuffix();
const CASES: Case[] = [
  { service: 'fulfillment', group: `rejoin-fulfillment-${suffix}`, env: { FULFILLMENT_CONSUMER_GROUP: `rejoin-fulfillment-${suffix}` } },
  { service: 'approval', group: `${prefix}rejoin-approval-${suffix}`, env: { APPROVAL_CONSUMER_GROUP: `rejoin-approval-${suffix}` } },
  // Without NOTIFICATION_FROM_BEGINNING: the restart resumes from committed offsets, so it may join in the background.
  { service: 'notification', group: `rejoin-notification-${suffix}`, env: { NOTIFICATION_CONSUMER_GROUP: `rejoin-notification-${suffix}` } },
  { service: 'analytics', group: `rejoin-analytics-${suffix}`, env: { ANALYTICS_CONSUMER_GROUP: `rejoin-analytics-${suffix}` } },
];

async function spawnService(c: Case, databaseUrl: string): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const [http, grpc] = [await freePort(), await freePort()];
  let output = '';
  const child = spawn(process.execPath, ['--import', `./${BUILD_DIR}/enable-source-maps.mjs`, `${BUILD_DIR}/services/${c.service}/src/main.js`], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...common, ...c.env, DATABASE_URL: databaseUrl, HTTP_PORT: String(http), GRPC_PORT: String(grpc), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  return { child, base: `http://127.0.0.1:${http}`, output: () => output };
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

const answers = (base: string, path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok);

async function members(group: string): Promise<{ state: string; ids: string[] }> {
  const [g] = (await admin.describeGroups([group])).groups;
  return { state: g?.state ?? 'Unknown', ids: (g?.members ?? []).map((m) => m.memberId) };
}

beforeAll(async () => {
  build.make();
  admin = createKafka({ brokers: kafkaBrokers(), clientId: 'crash-rejoin-e2e' }).admin();
  await admin.connect();
}, 300_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await admin?.disconnect().catch(() => undefined);
  for (const db of dbs) await db.drop().catch(() => undefined);
  build.remove();
}, 120_000);

describe('a service SIGKILLed and started again', () => {
  it.concurrent.each(CASES.map((c) => [c.service, c] as const))('%s serves while its group still waits for the dead member, then rejoins by itself', async (_name, c) => {
    const db = await createTestDatabase(`e2e_rejoin_${c.service}`);
    dbs.push(db);
    const first = await spawnService(c, db.url);
    await waitUntil(`${c.service} ready`, () => answers(first.base, '/health/ready'), 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output().slice(-3000)}`);
    });
    const old = await waitUntil(`${c.service} joined`, async () => {
      const m = await members(c.group);
      return m.state === 'Stable' && m.ids.length === 1 ? m.ids[0] : undefined;
    }, 90_000);
    if (c.service === 'notification') {
      // A group with committed offsets (any running system's): one message on a consumed topic.
      const producer = createKafka({ brokers: kafkaBrokers(), clientId: 'crash-rejoin-e2e' }).producer();
      await producer.connect();
      // A stock level: dropped by its type header, unparsed, and its offset committed.
      await producer.send({ topic: names.physical(Topics.inventoryEvents), messages: [{ key: 'SKU-REJOIN', value: '{}', headers: { ce_type: 'flowline.inventory.StockLevelChanged.v1' } }] });
      await producer.disconnect();
      await waitUntil('notification committed an offset', () => groupHasOffsets(admin, c.group, [names.physical(Topics.inventoryEvents)]), 60_000);
    }

    first.child.kill('SIGKILL');
    await new Promise((r) => (first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r)));
    const second = await spawnService(c, db.url);
    await waitUntil(`${c.service} answers /health/live after the restart`, () => answers(second.base, '/health/live'), 60_000);
    await waitUntil(`${c.service} ready after the restart`, () => answers(second.base, '/health/ready'), 30_000);
    // Serving already, while the dead member still holds its place in the group: the boot did not
    // wait for the rebalance (which cannot finish before that member's 30 s session expires).
    expect((await members(c.group)).ids, second.output().slice(-2000)).toContain(old);

    // ...and the consumer joins by itself once the old member is gone.
    await waitUntil(`${c.service} rejoined`, async () => {
      const m = await members(c.group);
      return m.state === 'Stable' && m.ids.length === 1 && m.ids[0] !== old;
    }, 90_000);
    second.child.kill('SIGTERM');
  }, 300_000);
});
