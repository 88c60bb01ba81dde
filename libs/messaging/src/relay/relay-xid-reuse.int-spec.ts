import { createServer } from 'node:net';
import { PostgresEventStore, positionToString, type NewEvent, type RecordedEvent, type Subscription } from '@flowline/eventstore';
import { kafkaBrokers, privatePostgresUnavailable, startPrivatePostgres, testTopicPrefix, type PrivatePostgres } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, waitFor } from '../testing/fixtures';
import { EventRelay } from './event-relay';

/*
 * Issue #18 (fault injection), docs/adr/0003 "Crash recovery and reused transaction ids".
 * PostgreSQL restores its next transaction id from the WAL after a crash; ids whose WAL never
 * left shared memory (here: aborted transactions, nothing flushes an abort) are handed out again.
 * A snapshot taken before the crash counted them (xmax), so a subscription cursor moved to that
 * horizon would sort every event committed after recovery under a reused, lower id before itself
 * and never deliver it; a relay that then relays a later event checkpoints past them for good.
 *
 * The server is a private one of this test. wal_writer_delay at its maximum keeps the WAL writer
 * from writing the last partial WAL page (where the newest aborts sit) before the crash; it runs
 * with fsync=off, which does not matter: an immediate stop loses what is still in shared memory,
 * and what was written to the OS survives (the test measures the reuse instead of assuming it).
 */
const unavailable = privatePostgresUnavailable();
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'xid-reuse.events.v1';
let pg: PrivatePostgres | undefined;
let url: string;
let store: PostgresEventStore;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
const relays: EventRelay[] = [];
let subscription: Subscription | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function event(orderId: string): NewEvent {
  return { eventId: `${orderId}-0`, type: 'OrderNoted', data: { orderId }, metadata: { correlationId: `corr-${orderId}`, causationId: null, occurredAt: new Date().toISOString() } };
}

/** One statement on a connection of its own (the server may have been restarted since the last). */
async function scalar(sql: string): Promise<string> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return String(Object.values((await c.query(sql)).rows[0] as Record<string, unknown>)[0]);
  } finally {
    await c.end();
  }
}

/** `count` transactions that take an id and roll back: nothing commits, so nothing flushes their WAL. */
async function burnXids(count: number): Promise<void> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    for (let done = 0; done < count; done += 100) {
      await c.query('BEGIN; SELECT pg_current_xact_id(); ROLLBACK;'.repeat(Math.min(100, count - done)));
    }
  } finally {
    await c.end();
  }
}

function startRelay(): EventRelay {
  // No lease (exclusive false): its renewals would commit, and a commit flushes every abort before it.
  const relay = new EventRelay({
    name: 'xid-reuse',
    store,
    publisher,
    pool,
    exclusive: false,
    route: (e) => ({ topic: TOPIC, key: e.streamId }),
    filter: { streamPrefixes: ['order-'] },
    retryBackoff: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0 },
    restartDelayMs: 100,
  });
  relays.push(relay);
  return relay;
}

async function topicEventIds(): Promise<string[]> {
  return (await readWholeTopic(kafka, admin, names.physical(TOPIC))).map((m) => m.headers.eventId);
}

describe.skipIf(unavailable !== undefined)(`PostgreSQL crash that reuses transaction ids${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    pg = startPrivatePostgres(await freePort(), { wal_writer_delay: '10000ms', checkpoint_timeout: '1h' });
    const admin0 = new Client({ connectionString: pg.url('postgres') });
    await admin0.connect();
    await admin0.query('CREATE DATABASE flowline_xid_reuse');
    await admin0.end();
    url = pg.url('flowline_xid_reuse');
    store = await PostgresEventStore.create({ connectionString: url, pollIntervalMs: 50 });
    pool = new Pool({ connectionString: url, max: 3 });
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'relay-xid-reuse-test' });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [TOPIC], { partitions: 1, prefix });
    publisher = new EventPublisher({ kafka, topicPrefix: prefix });
    await publisher.connect();
  }, 120_000);

  afterAll(async () => {
    await subscription?.stop();
    for (const r of relays) await r.stop();
    await publisher?.disconnect();
    await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
    await admin?.disconnect();
    await store?.close();
    await pool?.end().catch(() => undefined);
    pg?.destroy();
  }, 60_000);

  it('delivers events committed after recovery under reused ids, live and through a relay restarted from its checkpoint', async () => {
    const delivered: RecordedEvent[] = [];
    subscription = store.subscribeToAll({ filter: { streamPrefixes: ['order-'] }, onEvent: async (e) => void delivered.push(e) });
    const relay = startRelay();
    await relay.start();
    await store.appendToStream('order-a', [event('a')]);
    await waitFor('order a relayed', async () => ((await topicEventIds()).includes('a-0') ? true : undefined));

    // Aborted ids until the unwritten WAL tail holds ~100 of them (~40 bytes of WAL each). The
    // subscription polls the empty log meanwhile (every 50 ms): its horizon, xmax, counts them.
    let unwritten = 0;
    await burnXids(2_000);
    for (let round = 0; round < 50; round++) {
      await new Promise((r) => setTimeout(r, 300));
      unwritten = Number(await scalar('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), pg_current_wal_lsn())'));
      if (unwritten >= 4_096) break;
      await burnXids(20);
    }
    const xmaxBefore = BigInt(await scalar('SELECT pg_snapshot_xmax(pg_current_snapshot())::text'));
    if (!pg) throw new Error('no private PostgreSQL');
    pg.crash();
    pg.start();

    // The evidence: the next id after recovery is below the horizon the subscription has seen.
    const xmaxAfter = BigInt(await scalar('SELECT pg_snapshot_xmax(pg_current_snapshot())::text'));
    console.info(`xid reuse: xmax before the crash ${xmaxBefore}, after recovery ${xmaxAfter} (${xmaxBefore - xmaxAfter} ids handed out again; unwritten WAL ${unwritten} B)`);
    expect(xmaxAfter).toBeLessThan(xmaxBefore - 5n);

    // Committed after recovery under reused ids (below the pre-crash horizon).
    const b = await store.appendToStream('order-b', [event('b')]);
    const c = await store.appendToStream('order-c', [event('c')]);
    expect(c.position.commit).toBeLessThan(xmaxBefore);
    expect(b.position.commit).toBeLessThan(c.position.commit);

    // Then ids past the old horizon, and one more event: a subscription that skipped b and c
    // delivers this one, and the relay checkpoints past them.
    await burnXids(Number(xmaxBefore - c.position.commit) + 10);
    const d = await store.appendToStream('order-d', [event('d')]);
    expect(d.position.commit).toBeGreaterThan(xmaxBefore);
    await waitFor('order d delivered', () => (delivered.some((e) => e.eventId === 'd-0') ? true : undefined), 30_000);
    await waitFor('order d relayed', async () => ((await topicEventIds()).includes('d-0') ? true : undefined));

    // The persisted checkpoint; then a relay restarted from it, and one more event.
    await relay.stop();
    const saved = await scalar(`SELECT position FROM relay_checkpoints WHERE relay_name = 'xid-reuse'`);
    const restarted = startRelay();
    await restarted.start();
    await store.appendToStream('order-e', [event('e')]);
    await waitFor('order e relayed', async () => ((await topicEventIds()).includes('e-0') ? true : undefined));
    await waitFor('order e delivered', () => (delivered.some((e) => e.eventId === 'e-0') ? true : undefined), 30_000);

    // Every event delivered live, in log order; the checkpoint is the last relayed event's own
    // position (never a horizon); nothing was left behind on the topic, each event once.
    expect.soft(delivered.map((e) => e.eventId)).toEqual(['a-0', 'b-0', 'c-0', 'd-0', 'e-0']);
    expect.soft(saved).toBe(positionToString(d.position));
    expect.soft(await topicEventIds()).toEqual(['a-0', 'b-0', 'c-0', 'd-0', 'e-0']);
  }, 180_000);
});
