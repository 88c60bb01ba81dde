import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * fulfillment started while the broker is away boots and answers (live; readiness red naming what
 * is missing) and becomes ready by itself once the broker is back. Found by a fault-injection
 * audit: the boot waited for Kafka, failed after kafkajs' retries, exited 1 and was restarted in a
 * loop, answering nothing meanwhile. The broker is reached through a port that refuses connections
 * until the test opens it (a TCP pass-through to the real broker).
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let child: ChildProcess | undefined;
let output = '';
let gate: Server | undefined;
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

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`fulfillment exited with ${child.exitCode} while waiting for ${what}:\n${output.slice(-3000)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms\n${output.slice(-3000)}`);
}

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_boot_no_kafka');
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (gate ? gate.close(() => r()) : r()));
  await db?.drop().catch(() => undefined);
}, 60_000);

describe('fulfillment started while Kafka is away', () => {
  it('boots and answers, readiness red naming what is missing; ready by itself once the broker answers', async () => {
    const [brokerPort, http, grpc] = [await freePort(), await freePort(), await freePort()];
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/fulfillment/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: `127.0.0.1:${brokerPort}`,
        KAFKA_TOPIC_PREFIX: testTopicPrefix(),
        FULFILLMENT_CONSUMER_GROUP: `boot-no-kafka-${uniqueSuffix()}`,
        HTTP_PORT: String(http),
        GRPC_PORT: String(grpc),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const base = `http://127.0.0.1:${http}`;
    const get = (path: string) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(3_000) });

    await waitFor('/health/live', async () => (await get('/health/live')).status === 200, 120_000);
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/kafka|fulfillment messaging/);
    // Still the same process a while later: nothing failed the boot.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(child.exitCode).toBeNull();
    expect((await get('/health/live')).status).toBe(200);

    await openGate(brokerPort);
    await waitFor('/health/ready after the broker is back', async () => (await get('/health/ready')).status === 200, 90_000);
    expect(child.exitCode, 'the same process, never restarted').toBeNull();
  }, 240_000);
});
