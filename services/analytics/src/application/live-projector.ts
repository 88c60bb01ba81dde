import { ensureTopics, pgTransactions, runConsumer, type ConsumerHandle, type MessagingLogger } from '@flowline/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { AnalyticsConfig } from '../analytics.config';
import { ANALYTICS_SCHEMA, ensureAnalyticsSchema } from '../infra/analytics-schema';
import { FactStore } from '../infra/fact-store';
import { ANALYTICS_TOPICS } from '../projections/analytics-event';

/**
 * The live projector: `runConsumer` from @flowline/messaging over the three topics (inbox, retries,
 * dead letters), group-committing up to 200 messages per transaction, writing facts into the live
 * schema. Every message moves the partition's checkpoint (events analytics ignores change no fact),
 * so a rebuild can tell exactly when it has passed what the live consumer applied.
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

  async start(): Promise<void> {
    await ensureAnalyticsSchema(this.pool, ANALYTICS_SCHEMA);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ANALYTICS_TOPICS, { partitions: this.config.topicPartitions, prefix: this.config.topicPrefix });
    } finally {
      await admin.disconnect();
    }
    this.handle = await runConsumer({
      kafka: this.kafka,
      groupId: this.config.consumerGroup,
      topics: ANALYTICS_TOPICS,
      topicPrefix: this.config.topicPrefix,
      transactions: pgTransactions(this.pool),
      partitionsConsumedConcurrently: this.config.consumerConcurrency,
      batch: { maxMessages: 200 },
      logger: this.logger,
      handler: async (envelope, tx, message) => {
        await this.store.apply(tx, envelope, { topic: message.topic, partition: message.partition, offset: message.offset });
      },
    });
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
    this.handle = null;
  }
}
