import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { runConsumer, type ConsumerHandle } from './run-consumer';

/**
 * Issue #9, must-show 6, at the loop level with the real event store and the process manager's
 * write pattern (state read on another connection, append inside the chunk's transaction with
 * the expected revision, no savepoint): a concurrent commit on one of the 32 streams of a chunk
 * makes that append lose (WrongExpectedVersion, transaction aborted). The loop runs the whole
 * chunk again as a conflict: all 32 commit, the conflicted one decided on the new state, no
 * 25P02 (no statement ever ran in the aborted transaction), nothing dead-lettered.
 */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'chunkconflict.events.v1';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
let handle: ConsumerHandle | undefined;

beforeAll(async () => {
  db = await createTestDatabase('msg_chunk_conflict');
  pool = new Pool({ connectionString: db.url, max: 6 });
  store = await PostgresEventStore.create({ pool });
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'chunk-conflict-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 1, prefix });
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  await handle?.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await store?.close();
  await pool?.end();
  await db?.drop();
});

const meta = (id: string) => ({ correlationId: id, causationId: null, occurredAt: new Date().toISOString() });

describe('a chunk with a concurrent commit on one of its streams', () => {
  it('commits all 32, re-decides the conflicted one on the new state, never meets 25P02, dead-letters nothing', async () => {
    const N = 32;
    for (let i = 0; i < N; i++) await store.appendToStream(`acct-${i}`, [{ eventId: `seed-${i}`, type: 'Opened', data: { i }, metadata: meta(`seed-${i}`) }]);
    const errors: { name: string; code?: string }[] = [];
    let raced = false;
    handle = await runConsumer({
      kafka,
      groupId: `${prefix}chunk-conflict`,
      topics: [TOPIC],
      topicPrefix: prefix,
      pool,
      batch: { maxMessages: N },
      maxRetries: 1,
      backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
      handler: async (envelope, tx) => {
        const streamId = `acct-${(envelope.data as { n: number }).n}`;
        // The process manager's pattern: decide on state read outside the transaction.
        const events = await store.readStream(streamId);
        const revision = events.length - 1;
        if (streamId === 'acct-7' && !raced) {
          raced = true;
          // Someone else commits on this order between our read and our append.
          await store.appendToStream(streamId, [{ eventId: 'concurrent-7', type: 'HoldPlaced', data: {}, metadata: meta('concurrent-7') }]);
        }
        try {
          await store.appendToStreamsWithin(tx.client, [
            { streamId, expectedRevision: revision, events: [{ eventId: `pm-${envelope.eventId}`, type: 'Reacted', data: { basedOnRevision: revision }, metadata: meta(envelope.eventId) }] },
          ]);
        } catch (e) {
          errors.push({ name: (e as Error).name, code: (e as { code?: string }).code });
          throw e;
        }
      },
    });
    const consumer = handle;
    await publisher.publish(Array.from({ length: N }, (_, n) => ({ topic: TOPIC, key: `acct-${n}`, envelope: testEnvelope(`a${n}`, n) })));

    await waitFor('32 reactions', async () => Number((await pool.query(`SELECT count(*) AS n FROM eventstore.events WHERE event_type = 'Reacted'`)).rows[0].n) === N || undefined, 60_000);
    const conflicted = await store.readStream('acct-7');
    expect(conflicted.map((e) => e.type)).toEqual(['Opened', 'HoldPlaced', 'Reacted']);
    expect(conflicted[2].data).toEqual({ basedOnRevision: 1 });
    for (let i = 0; i < N; i++) if (i !== 7) expect((await store.readStream(`acct-${i}`)).map((e) => e.type), `acct-${i}`).toEqual(['Opened', 'Reacted']);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => e.code === '25P02')).toEqual([]);
    expect(errors.every((e) => e.name === 'WrongExpectedVersion' || e.name === 'OutOfOrderAppend')).toBe(true);
    expect(consumer.stats.conflicts).toBeGreaterThan(0);
    expect(consumer.stats.deadLettered).toBe(0);
    const dlq = await admin.fetchTopicOffsets(names.deadLetter(TOPIC)).catch(() => [] as { high: string }[]);
    expect(dlq.reduce((n, p) => n + Number(p.high), 0)).toBe(0);
    expect(Number((await pool.query('SELECT count(*) AS n FROM messaging_inbox')).rows[0].n)).toBe(N);
  });
});
