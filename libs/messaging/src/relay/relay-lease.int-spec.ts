import { PostgresEventStore, positionFromString, type NewEvent } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { jsonLines, startWorker, type Worker } from '../testing/child';
import { waitFor } from '../testing/fixtures';
import { PgCheckpointStore } from './checkpoint-store';
import { RelayLease } from './relay-lease';

/**
 * Issue #9, must-show 5: relay leadership tied to liveness. The leader process is frozen with
 * SIGSTOP (it keeps its connections, so an advisory lock would never be released); the standby
 * takes the lease once it expires and publishes within 30 s; the old leader, resumed with SIGCONT,
 * is fenced: it cannot move the checkpoint, which only ever moves forward.
 */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'leaseorders.events.v1';
const RELAY = 'lease-test';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
const workers: Worker[] = [];

beforeAll(async () => {
  db = await createTestDatabase('msg_relay_lease');
  pool = new Pool({ connectionString: db.url, max: 3 });
  store = await PostgresEventStore.create({ pool });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-lease-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 2, prefix });
});

afterAll(async () => {
  for (const w of workers) {
    w.proc.kill('SIGCONT');
    w.proc.kill('SIGKILL');
  }
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function append(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const e: NewEvent = { eventId: `e-${i}`, type: 'OrderNoted', data: { orderId: `o${i % 7}`, i }, metadata: { correlationId: `c${i}`, causationId: null, occurredAt: new Date().toISOString() } };
    await store.appendToStream(`order-o${i}`, [e]);
  }
}

async function published(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(names.physical(TOPIC));
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

async function checkpointCommit(): Promise<bigint> {
  const { rows } = await pool.query<{ position: string }>('SELECT position FROM relay_checkpoints WHERE relay_name = $1', [RELAY]);
  return rows.length ? positionFromString(rows[0].position).commit : -1n;
}

describe('relay leadership lease', () => {
  it('a SIGSTOPped leader loses the lease: the standby publishes within 30 s; resumed, the old leader cannot move the checkpoint', async () => {
    const config = { databaseUrl: db.url, brokers: kafkaBrokers(), topicPrefix: prefix, topic: TOPIC, relayName: RELAY, leaseTtlMs: 3_000 };
    const a = startWorker('relay-worker', config);
    workers.push(a);
    await a.waitForLine((l) => l.includes('"status":"running"'), 90_000);
    const b = startWorker('relay-worker', config);
    workers.push(b);
    await b.waitForLine((l) => l.includes('"event":"ready"') && l.includes('"status":"standby"'), 90_000);

    await append(0, 20);
    await waitFor('20 published by the leader', async () => (await published()) >= 20 || undefined, 30_000);
    const tokenA = (await pool.query<{ token: string }>('SELECT token FROM relay_leases WHERE relay_name = $1', [RELAY])).rows[0].token;

    a.proc.kill('SIGSTOP');
    const frozenAt = Date.now();
    await append(20, 50);
    await waitFor('the 50 new events published by the standby', async () => (await published()) >= 70 || undefined, 30_000, 200);
    const takeoverMs = Date.now() - frozenAt;
    console.log(`relay lease: standby published ${takeoverMs} ms after the leader froze`);
    expect(takeoverMs).toBeLessThan(30_000);
    await b.waitForLine((l) => l.includes('"event":"checkpoint"'), 10_000);
    const tokenB = (await pool.query<{ token: string }>('SELECT token FROM relay_leases WHERE relay_name = $1', [RELAY])).rows[0].token;
    expect(BigInt(tokenB)).toBe(BigInt(tokenA) + 1n);

    // Sample the checkpoint while the old leader resumes: it must never go back.
    const samples: bigint[] = [await checkpointCommit()];
    const sampler = setInterval(() => void checkpointCommit().then((c) => samples.push(c)), 50);
    a.proc.kill('SIGCONT');
    await a.waitForLine((l) => l.includes('"status":"standby"'), 30_000);
    await append(70, 10);
    await waitFor('10 more published', async () => (await published()) >= 80 || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    clearInterval(sampler);
    for (let i = 1; i < samples.length; i++) expect(samples[i] >= samples[i - 1], `checkpoint moved back at sample ${i}`).toBe(true);
    expect(jsonLines(a.lines).filter((l) => l.event === 'checkpoint').every((l) => BigInt(String(l.position).split('/')[0]) <= samples[0])).toBe(true);

    // The fence itself: a save with the old token changes nothing.
    const cp = new PgCheckpointStore(pool);
    const before = await checkpointCommit();
    const lease = new RelayLease(pool, RELAY, 3_000);
    expect(await cp.saveFenced(RELAY, { commit: 1n, prepare: 1n }, lease, BigInt(tokenA))).toBe(false);
    expect(await checkpointCommit()).toBe(before);
  });
});
