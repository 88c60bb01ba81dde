/**
 * Tracking rebuild workload: a mixed workload of orders (every tracked event type, ~11 messages per
 * order, redeliveries included) is published to fresh topics; then
 * - live: the live projector (batch consumer, inbox, swap lock) catches up from zero: events/s;
 * - rebuild: the rebuild replays every topic into a fresh schema: events/s, and its checksum must
 *   equal the live one (reported as `checksumEqual`).
 * Against the real Kafka broker and a fresh PostgreSQL database.
 *
 * Run alone: `node -r @swc-node/register bench/workloads/rebuild.ts [durationSec]`.
 */
import 'reflect-metadata';
import type { EventEnvelope } from '../../libs/contracts/src/index';
import { createKafka, EventPublisher } from '../../libs/messaging/src/index';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '../../libs/testing/src/infra';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { LiveProjector } from '../../services/tracking/src/application/live-projector';
import { dropRebuildSchema, rebuildProjections } from '../../services/tracking/src/application/rebuild';
import { projectionChecksum } from '../../services/tracking/src/infra/checksum';
import { systemClock } from '../../services/tracking/src/infra/clock';
import { DEFAULT_SLA_CONFIG } from '../../services/tracking/src/domain/sla';
import { TRACKING_ENTITIES } from '../../services/tracking/src/projections/entities';
import type { TrackingConfig } from '../../services/tracking/src/tracking.config';
import { mixedWorkload } from '../../services/tracking/test/fixtures/workload';
import { pgTransactions } from '../../libs/messaging/src/index';
import type { Figures } from '../lib/harness';

const quiet = { info() {}, warn: (m: string, meta?: Record<string, unknown>) => console.warn(m, meta ?? ''), error: (m: string, meta?: Record<string, unknown>) => console.error(m, meta ?? '') };

export async function run(opts: { durationSec: number }): Promise<Figures> {
  // About 1,000 orders per second of the requested duration (10,000 for the default 10-20 s), within bounds.
  const orders = Math.min(30_000, Math.max(2_000, Math.round(opts.durationSec * 500)));
  const db = await createTestDatabase('bench_rebuild');
  const prefix = testTopicPrefix();
  const kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'bench-rebuild' });
  const pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on('error', () => undefined);
  const dataSource = new DataSource({ type: 'postgres', url: db.url, entities: TRACKING_ENTITIES, extra: { max: 10 } });
  const config: TrackingConfig = {
    sla: DEFAULT_SLA_CONFIG,
    consumerGroup: `bench-tracking-${uniqueSuffix()}`,
    consumerConcurrency: 4,
    topicPrefix: prefix,
    topicPartitions: 12,
    clockIntervalMs: 0,
    consume: true,
  };
  const figures: Figures = { orders };
  let projector: LiveProjector | null = null;
  const publisher = new EventPublisher({ kafka, topicPrefix: prefix });
  try {
    await dataSource.initialize();
    projector = new LiveProjector(dataSource, kafka, config, systemClock, quiet);
    await projector.prepare();
    const workload = mixedWorkload({ orders, seed: 7, idPrefix: `b${uniqueSuffix()}` });
    figures.messages = workload.messages.length;
    await publisher.connect();
    const t0 = Date.now();
    for (let i = 0; i < workload.messages.length; i += 2_000) {
      await publisher.publish(workload.messages.slice(i, i + 2_000).map((m) => ({ topic: m.topic, key: m.key, envelope: m.event as EventEnvelope })));
    }
    figures['publish.messagesPerSec'] = Math.round(workload.messages.length / ((Date.now() - t0) / 1000));

    const liveStart = Date.now();
    await projector.start();
    for (;;) {
      const lag = await projector.measureLag();
      if (lag.every((l) => l.events === 0)) break;
      if (Date.now() - liveStart > 600_000) throw new Error('live projector did not catch up in 10 min');
      await new Promise((r) => setTimeout(r, 100));
    }
    const liveMs = Date.now() - liveStart;
    figures['live.catchUpEventsPerSec'] = Math.round(workload.messages.length / (liveMs / 1000));
    console.log(`live projector caught up with ${workload.messages.length} messages in ${liveMs} ms`);

    const report = await rebuildProjections({ pool, kafka, topicPrefix: prefix, consumerGroup: config.consumerGroup, sla: config.sla, clock: systemClock, swap: false, logger: quiet });
    figures['rebuild.eventsPerSec'] = report.eventsPerSecond;
    figures['rebuild.replayMs'] = report.replayMs;
    figures['rebuild.applied'] = report.applied;
    figures['rebuild.duplicatesSkipped'] = report.duplicates;
    const live = await projectionChecksum(pgTransactions(pool), 'tracking');
    const rebuilt = await projectionChecksum(pgTransactions(pool), report.schema);
    figures.checksumEqual = live.checksum === rebuilt.checksum ? 'yes' : 'NO';
    console.log(`rebuild: ${report.consumed} messages in ${report.replayMs} ms = ${report.eventsPerSecond} events/s; checksum equal: ${figures.checksumEqual}`);
    await dropRebuildSchema(pool, report.schema);
    return figures;
  } finally {
    await projector?.stop().catch(() => undefined);
    await publisher.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect().catch(() => undefined);
    const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
  }
}

if (require.main === module) {
  run({ durationSec: Number(process.argv[2] ?? 20) }).then(
    (f) => {
      console.log(JSON.stringify(f, null, 2));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
