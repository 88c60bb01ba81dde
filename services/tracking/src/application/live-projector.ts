import { EventPublisher, ensureTopics, TopicNames, typeormTransactions, type MessagingLogger } from '@flowline/messaging';
import { DependencyUnavailableError } from '@flowline/platform';
import type { Admin, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { runBatchConsumer, type BatchConsumerHandle } from '../infra/batch-consumer';
import type { Clock } from '../infra/clock';
import { projectionDelay, ProjectionLagMonitor } from '../infra/projection-lag';
import { ProjectionStore } from '../infra/projection-store';
import { withSwapLock } from '../infra/swap-lock';
import { ensureTrackingSchema, table, TRACKING_SCHEMA } from '../infra/tracking-schema';
import { TRACKED_TOPICS } from '../projections/tracked-event';
import type { TrackingConfig } from '../tracking.config';

export const TRACKED_TOPIC_LIST = Object.values(TRACKED_TOPICS);

/**
 * The live projector: one consumer group over every context's event topic. Each chunk of a
 * partition batch is claimed in the inbox (`tracking.inbox`, keyed by consumer group and event id)
 * and projected in the same transaction, which also holds the swap lock in shared mode and moves
 * the partition's checkpoint.
 */
export class LiveProjector {
  private handle: BatchConsumerHandle | null = null;
  private admin: Admin | null = null;
  private lag: ProjectionLagMonitor | null = null;
  private deadLetters: EventPublisher | null = null;
  readonly store: ProjectionStore;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    private readonly config: TrackingConfig,
    private readonly clock: Clock,
    private readonly logger?: MessagingLogger,
  ) {
    this.store = new ProjectionStore(TRACKING_SCHEMA, config.sla);
  }

  get stats() {
    return this.handle?.stats ?? null;
  }

  /** Creates the schema and topics when missing (idempotent; every replica may run it). */
  async prepare(): Promise<void> {
    await ensureTrackingSchema(typeormTransactions(this.dataSource), TRACKING_SCHEMA);
    this.admin ??= this.kafka.admin();
    await this.admin.connect();
    await ensureTopics(this.admin, TRACKED_TOPIC_LIST, { partitions: this.config.topicPartitions, prefix: this.config.topicPrefix });
  }

  async start(): Promise<void> {
    await this.prepare();
    const names = new TopicNames(this.config.topicPrefix);
    const delay = projectionDelay();
    this.deadLetters = new EventPublisher({ kafka: this.kafka, topicPrefix: this.config.topicPrefix });
    await this.deadLetters.connect();
    this.handle = await runBatchConsumer({
      kafka: this.kafka,
      groupId: this.config.consumerGroup,
      topics: TRACKED_TOPIC_LIST,
      names,
      concurrency: this.config.consumerConcurrency,
      // What the partitions fetched together carry is projected in one transaction (the projection
      // store's checkpoints and inbox rows are per topic and partition): one commit, one NOTIFY
      // for several partitions' chunks; a fetch waits at most 50 ms for 32 KiB, so a steady flow
      // brings a few dozen events per commit instead of a handful (issue #10). Added latency:
      // at most 50 + 5 ms on the hop to the board. Idle, the fetch waits up to 1 s for the first
      // byte instead (libs/messaging adaptive fetch): one fetch a second, not 20, and the first
      // event after a quiet spell is answered at once.
      groupCommit: { lingerMs: 5 },
      fetch: { minBytes: 32 * 1024, maxWaitMs: 50 },
      transactions: withSwapLock(typeormTransactions(this.dataSource), { genericPlans: true }),
      deadLetters: this.deadLetters,
      logger: this.logger,
      apply: async (tx, items) => {
        const r = await this.store.applyOnce(tx, this.config.consumerGroup, items, this.clock.now().toISOString());
        const now = Date.now();
        for (const item of items) {
          const occurred = Date.parse(item.occurredAt);
          if (item.event && Number.isFinite(occurred)) delay.observe({ topic: item.position.topic }, Math.max(0, (now - occurred) / 1000));
        }
        return r;
      },
    });
    this.lag = new ProjectionLagMonitor(
      { query: async (sql, params) => ({ rows: await this.dataSource.query(sql, params), rowCount: null }) },
      this.admin!,
      names,
      TRACKED_TOPIC_LIST,
      this.config.consumerGroup,
      () => this.clock.now(),
    );
    this.lag.start();
  }

  /** Lag per topic right now (also exported as Prometheus gauges); 503 while the projector has not started (the broker away). */
  measureLag() {
    if (!this.lag) throw new DependencyUnavailableError('kafka', 'tracking projector not started: the broker has not been reached yet');
    return this.lag.measure();
  }

  /** The live checkpoints (logical topic, partition, last applied offset). */
  async checkpoints(): Promise<{ topic: string; partition: number; offset: string }[]> {
    return this.dataSource.query(`SELECT "topic", "partition", "offset"::text AS "offset" FROM ${table(TRACKING_SCHEMA, 'checkpoint')} ORDER BY 1, 2`);
  }

  async stop(): Promise<void> {
    this.lag?.stop();
    await this.handle?.stop();
    this.handle = null;
    await this.deadLetters?.disconnect().catch(() => undefined);
    this.deadLetters = null;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }
}
