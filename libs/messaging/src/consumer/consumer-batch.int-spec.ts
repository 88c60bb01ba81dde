import type { EventEnvelope } from '@flowline/contracts';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { readWholeTopic, testEnvelope, waitFor } from '../testing/fixtures';
import { runConsumer, type ConsumerHandle } from './run-consumer';

/** runConsumer's group commit (`batch`) and `accept` filter, against real Kafka and PostgreSQL. */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
const handles: ConsumerHandle[] = [];

beforeAll(async () => {
  db = await createTestDatabase('msg_consumer_batch');
  pool = new Pool({ connectionString: db.url, max: 5 });
  pool.on('error', () => undefined);
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'consumer-batch-test' });
  admin = kafka.admin();
  await admin.connect();
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  for (const h of handles) await h.stop();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function freshTopic(label: string): Promise<string> {
  const topic = `${label}.events.v1`;
  await ensureTopics(admin, [topic], { partitions: 1, prefix });
  return topic;
}

interface Effect {
  event_id: string;
  key: string;
  n: number;
  tx: string;
}

async function effects(table: string): Promise<Effect[]> {
  return (await pool.query<Effect>(`SELECT event_id, key, n, tx::text AS tx FROM ${table} ORDER BY id`)).rows;
}

/** Handler writing one row per applied event with the id of the transaction it ran in. */
function recordingHandler(table: string, seen?: Map<string, number>) {
  return async (envelope: EventEnvelope, tx: { query(sql: string, params?: unknown[]): Promise<unknown> }) => {
    const data = envelope.data as { orderId: string; n: number; poison?: boolean };
    seen?.set(envelope.eventId, (seen.get(envelope.eventId) ?? 0) + 1);
    if (data.poison) throw new Error(`cannot apply ${envelope.eventId}`);
    await tx.query(`INSERT INTO ${table} (event_id, key, n, tx) VALUES ($1, $2, $3, txid_current())`, [envelope.eventId, data.orderId, data.n]);
  };
}

async function effectsTable(name: string): Promise<void> {
  await pool.query(`CREATE TABLE ${name} (id bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, key text NOT NULL, n integer NOT NULL, tx bigint NOT NULL)`);
}

/** 60 events over 6 keys, interleaved: k0-0, k1-0, ..., k5-0, k0-1, ... */
function interleaved(count = 60, keys = 6, extra: (i: number) => Record<string, unknown> = () => ({})): { key: string; envelope: EventEnvelope }[] {
  return Array.from({ length: count }, (_, i) => {
    const key = `k${i % keys}`;
    return { key, envelope: testEnvelope(key, Math.floor(i / keys), extra(i)) };
  });
}

describe('runConsumer with batch (group commit)', () => {
  it('applies every message once, in order per key, several per transaction and never two of one key in one transaction', async () => {
    const topic = await freshTopic('chunked');
    await effectsTable('chunked_effects');
    const msgs = interleaved();
    await publisher.publish(msgs.map(({ key, envelope }) => ({ topic, key, envelope })));
    handles.push(
      await runConsumer({ kafka, groupId: `chunked-${uniqueSuffix()}`, topics: [topic], topicPrefix: prefix, pool, batch: { maxMessages: 10 }, handler: recordingHandler('chunked_effects') }),
    );
    await waitFor('60 effects', async () => (await effects('chunked_effects')).length === 60 || undefined);
    const rows = await effects('chunked_effects');
    expect(rows.map((r) => r.event_id)).toEqual(msgs.map((m) => m.envelope.eventId));
    const byTx = new Map<string, Effect[]>();
    for (const r of rows) byTx.set(r.tx, [...(byTx.get(r.tx) ?? []), r]);
    // Fewer commits than messages (a chunk closes at 10 messages or at a repeated key: 6 here).
    expect(byTx.size).toBeLessThan(60);
    expect(Math.max(...[...byTx.values()].map((g) => g.length))).toBeGreaterThan(1);
    for (const group of byTx.values()) expect(new Set(group.map((r) => r.key)).size).toBe(group.length);
    const inbox = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM messaging_inbox');
    expect(inbox.rows[0].n).toBe(60);
  });

  it('with groupCommit, commits the chunks of several partitions in one transaction, each inbox row naming its own partition', async () => {
    const topic = 'groupcommit.events.v1';
    await ensureTopics(admin, [topic], { partitions: 3, prefix });
    await effectsTable('groupcommit_effects');
    const msgs = interleaved(60, 6).map(({ key, envelope }) => ({ key, envelope: { ...envelope, eventId: `gc-${envelope.eventId}` } }));
    await publisher.publish(msgs.map(({ key, envelope }) => ({ topic, key, envelope })));
    const group = `groupcommit-${uniqueSuffix()}`;
    handles.push(
      await runConsumer({
        kafka,
        groupId: group,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        batch: { maxMessages: 100 },
        groupCommit: { lingerMs: 50 },
        partitionsConsumedConcurrently: 3,
        minBytes: 64 * 1024,
        maxWaitTimeInMs: 300,
        handler: recordingHandler('groupcommit_effects'),
      }),
    );
    await waitFor('60 effects', async () => (await effects('groupcommit_effects')).length === 60 || undefined);
    const rows = (
      await pool.query<Effect & { partition: number; n: number }>(
        `SELECT e.event_id, e.key, e.n, e.tx::text AS tx, i.partition FROM groupcommit_effects e JOIN messaging_inbox i ON i.event_id = e.event_id AND i.consumer_group = $1 ORDER BY e.id`,
        [group],
      )
    ).rows;
    expect(rows).toHaveLength(60);
    // Order per key kept; one key always on one partition.
    for (const key of new Set(rows.map((r) => r.key))) {
      const mine = rows.filter((r) => r.key === key);
      expect(mine.map((r) => r.n)).toEqual([...mine.map((r) => r.n)].sort((a, b) => a - b));
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    }
    const partitionsPerTx = new Map<string, Set<number>>();
    for (const r of rows) partitionsPerTx.set(r.tx, (partitionsPerTx.get(r.tx) ?? new Set()).add(r.partition));
    expect(new Set(rows.map((r) => r.partition)).size).toBeGreaterThan(1);
    expect(Math.max(...[...partitionsPerTx.values()].map((p) => p.size))).toBeGreaterThan(1);
  });

  it('falls back to one transaction per message when a chunk fails: the poison is dead-lettered, every other message applied exactly once', async () => {
    const topic = await freshTopic('chunkpoison');
    await effectsTable('chunkpoison_effects');
    const msgs = interleaved(30, 6, (i) => ({ poison: i === 7 }));
    const seen = new Map<string, number>();
    await publisher.publish(msgs.map(({ key, envelope }) => ({ topic, key, envelope })));
    handles.push(
      await runConsumer({
        kafka,
        groupId: `chunkpoison-${uniqueSuffix()}`,
        topics: [topic],
        topicPrefix: prefix,
        pool,
        batch: { maxMessages: 10 },
        maxRetries: 1,
        backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
        handler: recordingHandler('chunkpoison_effects', seen),
      }),
    );
    const dead = await waitFor('a dead letter', async () => {
      const m = await readWholeTopic(kafka, admin, names.deadLetter(topic));
      return m.length > 0 ? m : undefined;
    });
    await waitFor('29 effects', async () => (await effects('chunkpoison_effects')).length === 29 || undefined);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(String(dead[0].value)).eventId).toBe(msgs[7].envelope.eventId);
    const rows = await effects('chunkpoison_effects');
    expect(rows.map((r) => r.event_id)).toEqual(msgs.filter((_, i) => i !== 7).map((m) => m.envelope.eventId));
    // The poison's chunk-mates ran in the failed chunk, then once more each on their own.
    expect(seen.get(msgs[7].envelope.eventId)).toBe(1 + 2);
  });

  it('treats an event id already in the inbox, or twice in one chunk, as a duplicate', async () => {
    const topic = await freshTopic('chunkdup');
    await effectsTable('chunkdup_effects');
    const groupId = `chunkdup-${uniqueSuffix()}`;
    const a = testEnvelope('d1', 0);
    const b = testEnvelope('d2', 0);
    const c = testEnvelope('d3', 0);
    await pool.query(`CREATE TABLE IF NOT EXISTS messaging_inbox (consumer_group text NOT NULL, event_id text NOT NULL, event_type text NOT NULL, topic text NOT NULL,
      partition integer NOT NULL, "offset" bigint NOT NULL, processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer_group, event_id))`);
    // `a` was applied before (a redelivery); `b` is published twice back to back (a duplicate publish).
    await pool.query(`INSERT INTO messaging_inbox (consumer_group, event_id, event_type, topic, partition, "offset") VALUES ($1, $2, 'TestHappened', $3, 0, 0)`, [groupId, a.eventId, topic]);
    await publisher.publish([a, b, { ...b }, c].map((envelope) => ({ topic, key: (envelope.data as { orderId: string }).orderId, envelope })));
    handles.push(await runConsumer({ kafka, groupId, topics: [topic], topicPrefix: prefix, pool, batch: { maxMessages: 10 }, handler: recordingHandler('chunkdup_effects') }));
    await waitFor('c applied', async () => (await effects('chunkdup_effects')).some((r) => r.event_id === c.eventId) || undefined);
    expect((await effects('chunkdup_effects')).map((r) => r.event_id)).toEqual([b.eventId, c.eventId]);
  });

  it('acknowledges messages that `accept` turns down without a handler call or an inbox row, also one by one', async () => {
    for (const batch of [{ maxMessages: 10 }, undefined]) {
      const label = batch ? 'acceptchunk' : 'acceptsingle';
      const topic = await freshTopic(label);
      await effectsTable(`${label}_effects`);
      const groupId = `${label}-${uniqueSuffix()}`;
      const msgs = interleaved(20, 4, (i) => ({ ignore: i % 2 === 1 }));
      await publisher.publish(msgs.map(({ key, envelope }) => ({ topic, key, envelope })));
      const handled: string[] = [];
      handles.push(
        await runConsumer({
          kafka,
          groupId,
          topics: [topic],
          topicPrefix: prefix,
          pool,
          ...(batch ? { batch } : {}),
          accept: (envelope) => !(envelope.data as { ignore: boolean }).ignore,
          handler: async (envelope, tx) => {
            handled.push(envelope.eventId);
            await recordingHandler(`${label}_effects`)(envelope, tx);
          },
        }),
      );
      // The group's committed offset passes the last message, which is an ignored one.
      await waitFor(`${label}: offsets committed to the end`, async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
        return committed.partitions[0].offset === '20' || undefined;
      });
      const wanted = msgs.filter((_, i) => i % 2 === 0).map((m) => m.envelope.eventId);
      expect(handled).toEqual(wanted);
      expect((await effects(`${label}_effects`)).map((r) => r.event_id)).toEqual(wanted);
      const inbox = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM messaging_inbox WHERE consumer_group = $1', [groupId]);
      expect(inbox.rows[0].n).toBe(10);
    }
  });
  it('acceptType drops refused types by header before decoding: an unreadable body of an ignored type is acknowledged, not dead-lettered', async () => {
    const label = 'accepttype';
    const topic = await freshTopic(label);
    await effectsTable(`${label}_effects`);
    const groupId = `${label}-${uniqueSuffix()}`;
    const wanted = [testEnvelope('k1', 0), testEnvelope('k2', 0), testEnvelope('k1', 1)];
    // Between the wanted ones: ignored types, one of them with a body that is not JSON at all.
    await publisher.publish([{ topic, key: 'k1', envelope: wanted[0] }]);
    await publisher.publishRaw([
      { topic: names.physical(topic), key: 'k1', value: Buffer.from('{not json'), headers: { type: 'StockLevelChanged', eventId: 'garbled-1' } },
      { topic: names.physical(topic), key: 'k2', value: Buffer.from(JSON.stringify({ ...testEnvelope('k2', 9), type: 'StockLevelChanged' })), headers: { type: 'StockLevelChanged', eventId: 'k2-9' } },
    ]);
    await publisher.publish(wanted.slice(1).map((envelope) => ({ topic, key: (envelope.data as { orderId: string }).orderId, envelope })));
    const handled: string[] = [];
    const handle = await runConsumer({
      kafka,
      groupId,
      topics: [topic],
      topicPrefix: prefix,
      pool,
      batch: { maxMessages: 10 },
      acceptType: (type) => type === 'TestHappened',
      handler: async (envelope, tx) => {
        handled.push(envelope.eventId);
        await recordingHandler(`${label}_effects`)(envelope, tx);
      },
    });
    handles.push(handle);
    await waitFor(`${label}: offsets committed to the end`, async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [names.physical(topic)] });
      return committed.partitions[0].offset === '5' || undefined;
    });
    expect(handled).toEqual(wanted.map((e) => e.eventId));
    expect(handle.stats.deadLettered).toBe(0);
    expect(handle.stats.undecodable).toBe(0);
    const inbox = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM messaging_inbox WHERE consumer_group = $1', [groupId]);
    expect(inbox.rows[0].n).toBe(3);
  });
});
