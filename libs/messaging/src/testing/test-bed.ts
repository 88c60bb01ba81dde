import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { TopicNames } from '../kafka/topics';

/** What a consumer int-spec needs: its own database and pool, a Kafka client, admin and publisher, one topic prefix. */
export interface ConsumerTestBed {
  prefix: string;
  names: TopicNames;
  pool: Pool;
  kafka: Kafka;
  admin: Admin;
  publisher: EventPublisher;
  /** Deletes the prefix's topics, disconnects, ends the pool and drops the database. */
  close(): Promise<void>;
}

export async function consumerTestBed(name: string): Promise<ConsumerTestBed> {
  const prefix = testTopicPrefix();
  const db = await createTestDatabase(name);
  const pool = new Pool({ connectionString: db.url, max: 4 });
  // DROP DATABASE ... WITH (FORCE) at the end may hit a client pool.end() is still closing.
  pool.on('error', () => undefined);
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: `${name}-test` });
  const admin = kafka.admin();
  await admin.connect();
  const publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  await publisher.connect();
  return {
    prefix,
    names: new TopicNames(prefix),
    pool,
    kafka,
    admin,
    publisher,
    async close() {
      await publisher.disconnect().catch(() => undefined);
      await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
      await admin.disconnect();
      await pool.end();
      await db.drop();
    },
  };
}
