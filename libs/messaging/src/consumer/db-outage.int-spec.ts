import { adminDatabaseUrl, createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { componentReadiness } from '../readiness';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { claimInboxMany, ensureInbox } from './inbox';
import { runBatchConsumer, runConsumer, type ConsumerHandle, type ItemResult } from './run-consumer';
import { pgTransactions } from './transactions';

/**
 * Issue #9, must-show 1: the consumer's database made unavailable for 15 s (ALLOW_CONNECTIONS
 * false + its backends terminated) while commands flow to each consumer kind of the one loop
 * (one transaction per message, chunked handler transactions, cross-partition group commit).
 * Afterwards every command is applied exactly once, no dead letter exists, and each consumer
 * reported itself not ready during the outage and ready after it.
 */
const COMMANDS = 500;
const OUTAGE_MS = 15_000;
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const KINDS = ['single', 'chunked', 'groupcommit'] as const;
type Kind = (typeof KINDS)[number];
const topicOf = (k: Kind) => `outage${k}.commands.v1`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
const handles: ConsumerHandle[] = [];

beforeAll(async () => {
  db = await createTestDatabase('msg_db_outage');
  pool = new Pool({ connectionString: db.url, max: 8, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE effects (kind text NOT NULL, event_id text NOT NULL)');
  await ensureInbox(pgTransactions(pool));
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'db-outage-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, KINDS.flatMap((k) => [topicOf(k), `${topicOf(k)}.dlq`]), { partitions: 3, prefix });
  publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
});

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => undefined);
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function publish(from: number, to: number): Promise<void> {
  for (const k of KINDS) {
    const batch = [];
    for (let i = from; i < to; i++) batch.push({ topic: topicOf(k), key: `order-${i % 37}`, envelope: testEnvelope(`${k}-${i % 37}`, i) });
    await publisher.publish(batch);
  }
}

async function setConnections(allow: boolean): Promise<void> {
  const c = new Client({ connectionString: adminDatabaseUrl() });
  await c.connect();
  try {
    await c.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS ${allow}`);
    if (!allow) await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
  } finally {
    await c.end();
  }
}

describe('a 15 s database outage under load', () => {
  it('applies every command exactly once afterwards, dead-letters nothing, and readiness goes red then green', async () => {
    const common = { kafka, topicPrefix: prefix, maxRetries: 2, backoff: { initialMs: 20, maxMs: 50, jitter: 0 }, partitionsConsumedConcurrently: 3, sessionTimeout: 30_000 };
    const insert = (kind: Kind) => async (envelope: { eventId: string }, tx: { query(sql: string, params?: unknown[]): Promise<unknown> }) => {
      await tx.query('INSERT INTO effects (kind, event_id) VALUES ($1, $2)', [kind, envelope.eventId]);
    };
    handles.push(await runConsumer({ ...common, groupId: `${prefix}single`, topics: [topicOf('single')], pool, handler: insert('single') }));
    handles.push(await runConsumer({ ...common, groupId: `${prefix}chunked`, topics: [topicOf('chunked')], pool, batch: { maxMessages: 20 }, handler: insert('chunked') }));
    const tx = pgTransactions(pool);
    handles.push(
      await runBatchConsumer({
        ...common,
        groupId: `${prefix}groupcommit`,
        topics: [topicOf('groupcommit')],
        groupCommit: { lingerMs: 5 },
        maxMessages: 200,
        processBatch: (items) =>
          tx.run(async (t) => {
            const results: ItemResult[] = [];
            for (const item of items) {
              const fresh = await claimInboxMany(t, 'messaging_inbox', { group: `${prefix}groupcommit`, topic: item.topic, partition: item.partition, events: [{ eventId: item.envelope.eventId, eventType: item.envelope.type, offset: item.offset }] });
              if (fresh.size > 0) await t.query('INSERT INTO effects (kind, event_id) VALUES ($1, $2)', ['groupcommit', item.envelope.eventId]);
              results.push({ kind: fresh.size > 0 ? 'done' : 'duplicate' });
            }
            return results;
          }),
      }),
    );

    // Readiness as a probe would see it, sampled every 50 ms.
    const wentRed = new Set<string>();
    const sampler = setInterval(() => {
      for (const [component, state] of Object.entries(componentReadiness())) if (!state.ready) wentRed.add(component);
    }, 50);

    try {
      await publish(0, 150);
      await waitFor('some commands applied before the outage', async () => Number((await pool.query('SELECT count(*) AS n FROM effects')).rows[0].n) > 0, 30_000);
      await setConnections(false);
      const outageStart = Date.now();
      await publish(150, COMMANDS);
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - outageStart)));
      await setConnections(true);

      await waitFor(
        `${COMMANDS} commands applied by each consumer`,
        async () => {
          const r = await pool.query<{ kind: string; n: string }>('SELECT kind, count(*) AS n FROM effects GROUP BY kind');
          return KINDS.every((k) => Number(r.rows.find((x) => x.kind === k)?.n ?? 0) >= COMMANDS);
        },
        90_000,
        250,
      );
      await waitFor('every consumer ready again', () => handles.every((h) => componentReadiness()[`consumer ${h.groupId}`]?.ready === true), 30_000);
    } finally {
      clearInterval(sampler);
    }

    const counts = await pool.query<{ kind: string; n: string; distinct_ids: string }>('SELECT kind, count(*) AS n, count(DISTINCT event_id) AS distinct_ids FROM effects GROUP BY kind ORDER BY kind');
    for (const row of counts.rows) {
      expect(Number(row.n), row.kind).toBe(COMMANDS);
      expect(Number(row.distinct_ids), row.kind).toBe(COMMANDS);
    }
    for (const k of KINDS) {
      const dlq = await admin.fetchTopicOffsets(names.deadLetter(topicOf(k)));
      expect(dlq.reduce((n, p) => n + Number(p.high), 0), `${k} dead letters`).toBe(0);
    }
    for (const h of handles) {
      expect(wentRed, h.groupId).toContain(`consumer ${h.groupId}`);
      expect(h.stats.deadLettered).toBe(0);
      expect(h.stats.infrastructureRetries).toBeGreaterThan(0);
    }
  });
});
