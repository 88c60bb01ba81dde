import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, kafkaBrokers, REPO_ROOT, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConsumer, type ConsumerHandle } from '../consumer/run-consumer';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { ensureTopics, TopicNames } from '../kafka/topics';
import { testEnvelope, waitFor } from '../testing/fixtures';
import { DeadLetterTopicNotFound, readDeadLetters, registerDeadLetterSource } from './dead-letters';

/**
 * Issue #9, must-show 2: a poison message is dead-lettered after its tries while the messages
 * after it on its partition are applied; `npm run dlq -- redrive` (the real CLI, scripts/dlq.ts)
 * after a fix applies it once, and a second redrive still leaves it applied once.
 */
const run = promisify(execFile);
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'dlqtest.commands.v1';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
let handle: ConsumerHandle | undefined;

beforeAll(async () => {
  db = await createTestDatabase('msg_dlq_redrive');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await pool.query('CREATE TABLE effects (event_id text NOT NULL)');
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'dlq-test' });
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
  await pool?.end();
  await db?.drop();
});

function dlqCli(...args: string[]) {
  return run(process.execPath, ['-r', '@swc-node/register', resolve(REPO_ROOT, 'scripts/dlq.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, KAFKA_TOPIC_PREFIX: prefix, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_LOG_LEVEL: 'nothing' },
    timeout: 60_000,
  });
}

const applied = async (eventId: string) => Number((await pool.query('SELECT count(*) AS n FROM effects WHERE event_id = $1', [eventId])).rows[0].n);

describe('dead letters and redrive', () => {
  it('a topic with no dead-letter topic on the broker is DeadLetterTopicNotFound (the admin API answers 404), not a broker error', async () => {
    await expect(readDeadLetters(kafka, admin, names, 'no-such.events.v1')).rejects.toBeInstanceOf(DeadLetterTopicNotFound);
  });

  it('dead-letters the poison after its tries, applies the rest, and a redrive after the fix applies it exactly once', async () => {
    let fixed = false;
    const tries = new Map<string, number>();
    const consumer = await runConsumer({
      kafka,
      groupId: `${prefix}dlq`,
      topics: [TOPIC],
      topicPrefix: prefix,
      pool,
      maxRetries: 2,
      backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
      handler: async (envelope, tx) => {
        tries.set(envelope.eventId, (tries.get(envelope.eventId) ?? 0) + 1);
        if ((envelope.data as { poison?: boolean }).poison && !fixed) throw Object.assign(new Error('line 1 has no sku'), { name: 'DomainError', code: 'MALFORMED_COMMAND' });
        await tx.query('INSERT INTO effects (event_id) VALUES ($1)', [envelope.eventId]);
      },
    });
    handle = consumer;
    const msgs = Array.from({ length: 10 }, (_, i) => testEnvelope('o1', i, { poison: i === 3 }));
    await publisher.publish(msgs.map((envelope) => ({ topic: TOPIC, key: 'o1', envelope })));
    const poisonId = msgs[3].eventId;

    await waitFor('the nine healthy messages applied', async () => Number((await pool.query('SELECT count(*) AS n FROM effects')).rows[0].n) === 9 || undefined, 60_000);
    const letters = await waitFor('one dead letter', async () => {
      const l = await readDeadLetters(kafka, admin, names, TOPIC);
      return l.length === 1 ? l : undefined;
    });
    expect(letters[0]).toMatchObject({ eventId: poisonId, attempts: 3, sourceTopic: names.physical(TOPIC) });
    expect(letters[0].reason).toContain('line 1 has no sku');
    expect(tries.get(poisonId)).toBe(3);
    expect(await applied(poisonId)).toBe(0);

    const unregister = registerDeadLetterSource({ names, admin });
    const gauge = await register.getSingleMetric('flowline_dlq_messages')?.get();
    expect(gauge?.values.find((v) => v.labels.topic === names.deadLetter(TOPIC))?.value).toBe(1);
    unregister();

    const listed = await dlqCli('list', TOPIC);
    expect(listed.stdout).toContain('1 dead letter(s)');
    expect(listed.stdout).toContain(poisonId);
    expect(listed.stdout).toContain('attempts=3');

    fixed = true;
    const first = await dlqCli('redrive', TOPIC, '--id', poisonId);
    expect(first.stdout).toContain('redrove 1 dead letter(s)');
    await waitFor('the redriven poison applied', async () => (await applied(poisonId)) === 1 || undefined, 60_000);

    const duplicatesBefore = consumer.stats.duplicates;
    await dlqCli('redrive', TOPIC, '--id', letters[0].id);
    await waitFor('the second redrive seen by the inbox', () => consumer.stats.duplicates > duplicatesBefore || undefined, 60_000);
    expect(await applied(poisonId)).toBe(1);
    expect(Number((await pool.query('SELECT count(*) AS n FROM effects')).rows[0].n)).toBe(10);
  });
});
