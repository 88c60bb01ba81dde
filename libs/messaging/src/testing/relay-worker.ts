/*
 * A relay process for crash tests. Config (WORKER_CONFIG JSON):
 *   databaseUrl, schema?, brokers, topicPrefix, topic, relayName,
 *   streamPrefix?, crashAt? — 'before-publish' | 'after-publish': SIGKILL itself at that point of its first batch.
 * Route: every stored event -> `topic`, keyed by data.orderId. Prints {"event":"ready"} and
 * {"event":"checkpoint","position":...,"events":n} after each saved checkpoint.
 */
import { PostgresEventStore, positionToString } from '@flowline/eventstore';
import { Pool } from 'pg';
import { createKafka } from '../kafka/config';
import { EventPublisher } from '../kafka/publisher';
import { EventRelay } from '../relay/event-relay';

interface Config {
  databaseUrl: string;
  schema?: string;
  brokers: string[];
  topicPrefix: string;
  topic: string;
  relayName: string;
  crashAt?: 'before-publish' | 'after-publish';
  /** Only streams starting with this (default all). */
  streamPrefix?: string;
  /** Leadership lease TTL (default 2 s here: a SIGKILLed leader's successor takes over quickly). */
  leaseTtlMs?: number;
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as Config;
const say = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const crash = (point: string) => {
  if (config.crashAt === point) process.kill(process.pid, 'SIGKILL');
};

async function main() {
  const store = await PostgresEventStore.create({ connectionString: config.databaseUrl, schema: config.schema, pollIntervalMs: 50 });
  const pool = new Pool({ connectionString: config.databaseUrl, max: 3 });
  const publisher = new EventPublisher({ kafka: createKafka({ brokers: config.brokers, clientId: 'relay-worker' }), topicPrefix: config.topicPrefix });
  await publisher.connect();
  const relay = new EventRelay({
    name: config.relayName,
    store,
    publisher,
    pool,
    filter: config.streamPrefix ? { streamPrefixes: [config.streamPrefix] } : undefined,
    route: (e) => ({ topic: config.topic, key: String((e.data as { orderId: string }).orderId) }),
    leaseTtlMs: config.leaseTtlMs ?? 2_000,
    standbyPollMs: 250,
    hooks: {
      beforePublish: () => crash('before-publish'),
      afterPublish: () => crash('after-publish'),
      afterCheckpoint: (events, position) => say({ event: 'checkpoint', position: positionToString(position), events: events.length, pid: process.pid }),
    },
  });
  await relay.start();
  say({ event: 'ready', pid: process.pid, status: relay.status });
  // Status changes (running <-> standby), for leadership tests.
  let last = relay.status;
  setInterval(() => {
    if (relay.status !== last) say({ event: 'status', pid: process.pid, status: (last = relay.status) });
  }, 100).unref();
  process.on('SIGTERM', () => {
    void (async () => {
      await relay.stop();
      await publisher.disconnect();
      await store.close();
      await pool.end();
      say({ event: 'stopped' });
      process.exit(0);
    })();
  });
}

main().catch((e) => {
  process.stderr.write(`relay-worker failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
