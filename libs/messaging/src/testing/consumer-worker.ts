/*
 * A consumer process for crash and shutdown tests. Config (WORKER_CONFIG JSON):
 *   brokers, topicPrefix, topic, groupId, databaseUrl, handlerDelayMs?, sessionTimeout?,
 *   killAtApplied? — SIGKILL itself inside the handler of the N-th new message of this process
 *     (N-1 transactions committed, the N-th open), which is mid-batch with offsets not committed.
 * Effects: a row per application in `effects` (no unique key, so a double apply would show) and
 * a counter. Prints JSON lines: {"event":"ready"}, {"event":"stopped",...} after SIGTERM.
 */
import { Pool } from 'pg';
import { register } from 'prom-client';
import { createKafka } from '../kafka/config';
import { runConsumer } from '../consumer/run-consumer';

interface Config {
  brokers: string[];
  topicPrefix: string;
  topic: string;
  groupId: string;
  databaseUrl: string;
  handlerDelayMs?: number;
  sessionTimeout?: number;
  killAtApplied?: number;
}

const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as Config;
const say = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

async function metricSum(name: string): Promise<number> {
  const m = register.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.filter((v) => v.labels.group === config.groupId).reduce((s, v) => s + v.value, 0);
}

async function main() {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  let applied = 0;
  const handle = await runConsumer({
    kafka: createKafka({ brokers: config.brokers, clientId: 'consumer-worker' }),
    groupId: config.groupId,
    topics: [config.topic],
    topicPrefix: config.topicPrefix,
    pool,
    sessionTimeout: config.sessionTimeout ?? 6_000,
    heartbeatInterval: 500,
    handler: async (envelope, tx, message) => {
      applied++;
      if (config.killAtApplied && applied === config.killAtApplied) process.kill(process.pid, 'SIGKILL');
      await tx.query('INSERT INTO effects (event_id, pid, partition, "offset") VALUES ($1, $2, $3, $4)', [envelope.eventId, process.pid, message.partition, message.offset]);
      await tx.query('UPDATE counter SET n = n + 1 WHERE id = 1');
      if (config.handlerDelayMs) await new Promise((r) => setTimeout(r, config.handlerDelayMs));
    },
  });
  say({ event: 'ready', pid: process.pid });
  process.on('SIGTERM', () => {
    void (async () => {
      const started = Date.now();
      await handle.stop();
      say({
        event: 'stopped',
        stopMs: Date.now() - started,
        applied,
        processed: await metricSum('flowline_consumer_processed_total'),
        duplicates: await metricSum('flowline_consumer_duplicates_total'),
      });
      await pool.end();
      process.exit(0);
    })();
  });
}

main().catch((e) => {
  process.stderr.write(`consumer-worker failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
