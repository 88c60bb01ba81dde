import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A service started while the broker is away boots and answers (live; readiness red naming what is
 * missing) and becomes ready by itself once the broker is back. Found by a fault-injection audit:
 * fulfillment's boot waited for Kafka, failed after kafkajs' retries, exited 1 and was restarted in
 * a loop, answering nothing meanwhile; approval, notification, analytics and tracking booted the
 * same way (order-intake and inventory already started their Kafka side in the background). The
 * broker is reached through a port that refuses connections until the test opens it (a TCP
 * pass-through to the real broker), shared by all five services.
 */
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
const children: ChildProcess[] = [];
let gate: Server | undefined;
let brokerPort = 0;
const sockets = new Set<Socket>();

function openGate(port: number): Promise<void> {
  const [host, target] = kafkaBrokers()[0].split(':');
  gate = createServer((client) => {
    const upstream = connect(Number(target), host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  return new Promise((r) => gate!.listen(port, '127.0.0.1', () => r()));
}

async function waitFor(what: string, child: ChildProcess, output: () => string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} while waiting for ${what}:\n${output().slice(-3000)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms\n${output().slice(-3000)}`);
}

beforeAll(async () => {
  brokerPort = await freePort();
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (gate ? gate.close(() => r()) : r()));
  for (const db of dbs) await db.drop().catch(() => undefined);
}, 60_000);

const suffix = uniqueSuffix();
const SERVICES: [string, Record<string, string>][] = [
  ['fulfillment', { FULFILLMENT_CONSUMER_GROUP: `boot-no-kafka-fulfillment-${suffix}` }],
  ['approval', { APPROVAL_CONSUMER_GROUP: `boot-no-kafka-approval-${suffix}` }],
  ['notification', { NOTIFICATION_CONSUMER_GROUP: `boot-no-kafka-notification-${suffix}` }],
  ['analytics', { ANALYTICS_CONSUMER_GROUP: `boot-no-kafka-analytics-${suffix}` }],
  ['tracking', { TRACKING_CONSUMER_GROUP: `boot-no-kafka-tracking-${suffix}` }],
];
/** Opened once every service was seen answering without it. */
let answering = 0;
let opened: Promise<void> | undefined;

describe('a service started while Kafka is away', () => {
  it.concurrent.each(SERVICES)('%s boots and answers, readiness red naming what is missing; ready by itself once the broker answers', async (service, env) => {
    const db = await createTestDatabase(`boot_no_kafka_${service}`);
    dbs.push(db);
    const [http, grpc] = [await freePort(), await freePort()];
    let output = '';
    const child = spawn(process.execPath, ['-r', '@swc-node/register', `services/${service}/src/main.ts`], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, DATABASE_URL: db.url, KAFKA_BROKERS: `127.0.0.1:${brokerPort}`, KAFKA_TOPIC_PREFIX: testTopicPrefix(), HTTP_PORT: String(http), GRPC_PORT: String(grpc), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const base = `http://127.0.0.1:${http}`;
    const get = (path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(3_000) });

    await waitFor('/health/live', child, () => output, async () => (await get('/health/live')).status === 200, 180_000);
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/kafka|messaging|projector/);
    // Still the same process a while later: nothing failed the boot.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(child.exitCode).toBeNull();
    expect((await get('/health/live')).status).toBe(200);
    if (service === 'tracking') {
      // What needs the projector says the broker is away and asks for a retry; it is not a bug (500).
      const lag = await get('/api/tracking/admin/lag');
      expect(lag.status).toBe(503);
      expect(lag.headers.get('retry-after')).toBe('2');
      expect(await lag.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    }

    // The broker comes back once every service answered without it.
    answering++;
    await waitFor('every service answering', child, () => output, async () => answering === SERVICES.length, 180_000);
    opened ??= openGate(brokerPort);
    await opened;
    await waitFor('/health/ready after the broker is back', child, () => output, async () => (await get('/health/ready')).status === 200, 120_000);
    expect(child.exitCode, 'the same process, never restarted').toBeNull();
  }, 420_000);
});
