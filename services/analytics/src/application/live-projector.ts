import { ensureTopics, errorMessage, pgTransactions, runBatchConsumer, type ConsumerHandle, type MessagingLogger } from '@flowline/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { AnalyticsConfig } from '../analytics.config';
import { ANALYTICS_SCHEMA, ensureAnalyticsSchema } from '../infra/analytics-schema';
import { FactStore } from '../infra/fact-store';
import { ANALYTICS_TOPICS, isProjected, PROJECTED_TYPES } from '../projections/analytics-event';

/**
 * The live projector: `runBatchConsumer`, the one consumer loop of @flowline/messaging (retries,
 * infrastructure outages waited out, dead letters), over its topics (ANALYTICS_TOPICS). Each fetched chunk of a
 * partition, together with those of the other partitions in hand (group commit, up to 1,000
 * messages), is applied in ONE transaction: event ids claimed in
 * `analytics.applied_event`, facts written, the partition's checkpoint moved. Events that change
 * no fact are acknowledged without a transaction.
 */
export class LiveProjector {
  private handle: ConsumerHandle | null = null;
  readonly store = new FactStore(ANALYTICS_SCHEMA);

  constructor(
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly config: AnalyticsConfig,
    private readonly logger?: MessagingLogger,
  ) {}

  get stats() {
    return this.handle?.stats ?? null;
  }

  async start(): Promise<void> {
    await ensureAnalyticsSchema(this.pool, ANALYTICS_SCHEMA);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ANALYTICS_TOPICS, { partitions: this.config.topicPartitions, prefix: this.config.topicPrefix });
    } finally {
      await admin.disconnect();
    }
    // Every statement of a batch is prepared and keyed by id arrays: on the generic plan, planned
    // once per connection (left to choose, the fact write's CTEs were re-planned for every batch).
    const transactions = pgTransactions(this.pool, { genericPlans: true });
    this.handle = await runBatchConsumer({
      kafka: this.kafka,
      groupId: this.config.consumerGroup,
      topics: ANALYTICS_TOPICS,
      topicPrefix: this.config.topicPrefix,
      partitionsConsumedConcurrently: this.config.consumerConcurrency,
      maxMessages: 1_000,
      // The batches of the partitions handled concurrently share one transaction (a chunk costs a
      // fixed number of statements, FactStore): analytics is off the order's critical path, so
      // waiting up to 20 ms for company is cheap next to a commit per partition batch.
      groupCommit: { lingerMs: 20 },
      // Off the critical path too: a fetch waits up to 500 ms for 64 KiB, so a quiet flow still
      // brings several orders' events per transaction; an idle consumer waits up to 1 s for the
      // first byte instead (libs/messaging adaptive fetch).
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 500,
      acceptType: (type) => PROJECTED_TYPES.has(type),
      accept: (envelope) => isProjected(envelope),
      logger: this.logger,
      processBatch: (items) => transactions.run((tx) => this.store.applyBatch(tx, items)),
      // The group is joined in the background: after a crash the rejoin waits for the old member's
      // session to expire (30 s), and the API (health probes included) serves meanwhile.
      awaitJoin: false,
      onFatal: (e) => this.logger?.error('analytics projector consumer gave up', { error: errorMessage(e) }),
    });
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
    this.handle = null;
  }
}
