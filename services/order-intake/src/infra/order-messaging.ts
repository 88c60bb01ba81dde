import { Topics } from '@flowline/contracts';
import type { PostgresEventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, EventRelay, runConsumer, type ConsumerHandle, type MessagingLogger } from '@flowline/messaging';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { ORDER_STREAM_PREFIX } from '../domain/order.events';
import { PROCESS_STREAM_PREFIX } from '../application/order-store.port';
import { routeRecorded } from '../application/order-relay.routes';
import type { ProcessManagerRunner } from '../application/process-manager.runner';
import type { ReservationTimeoutJob } from '../application/reservation-timeout.job';
import { PROCESS_MANAGER_TOPICS, processManagerHandler, toProcessEvent } from '../api/messaging/process-manager.consumer';

export const PROCESS_MANAGER_GROUP = 'order-intake.process-manager';
export const RELAY_NAME = 'order-intake';

/** Topics order-intake writes to or reads from (created with explicit partitions at start). */
export const ORDER_INTAKE_TOPICS = [
  Topics.orderEvents,
  Topics.inventoryCommands,
  Topics.approvalCommands,
  Topics.fulfillmentCommands,
  ...Object.keys(PROCESS_MANAGER_TOPICS),
];

export interface OrderMessagingOptions {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  pool: Pool;
  eventStore: PostgresEventStore;
  runner: ProcessManagerRunner;
  timeoutJob: ReservationTimeoutJob;
  relay: boolean;
  processManager: boolean;
  timeoutScanIntervalMs: number;
  /** Partitions the process manager handles at once (order within a partition always holds). */
  processManagerConcurrency: number;
  logger: MessagingLogger;
  clock?: () => Date;
}

/**
 * The moving parts around Kafka, started after the module is initialised and stopped on
 * shutdown: topics, the relay (log -> orders.events.v1 and the command topics), the process
 * manager consumer (with inbox and dead letters) and the reservation timer.
 */
export class OrderMessaging {
  private kafka: Kafka | null = null;
  private publisher: EventPublisher | null = null;
  private relay: EventRelay | null = null;
  private consumer: ConsumerHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: OrderMessagingOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    if (o.relay || o.processManager) {
      this.kafka = createKafka({ brokers: o.brokers, clientId: 'order-intake' });
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, ORDER_INTAKE_TOPICS, { partitions: o.partitions, prefix: o.topicPrefix });
      } finally {
        await admin.disconnect();
      }
    }
    if (o.relay && this.kafka) {
      this.publisher = new EventPublisher({ kafka: this.kafka, topicPrefix: o.topicPrefix });
      await this.publisher.connect();
      this.relay = new EventRelay({
        name: RELAY_NAME,
        store: o.eventStore,
        publisher: this.publisher,
        pool: o.pool,
        filter: { streamPrefixes: [ORDER_STREAM_PREFIX, PROCESS_STREAM_PREFIX] },
        logger: o.logger,
        route: (recorded) => routeRecorded(recorded),
        // An event this build cannot map (a newer type in a rolling deploy) is parked, not a stop.
        parkingTopic: Topics.orderEvents,
      });
      await this.relay.start();
    }
    if (o.processManager && this.kafka) {
      this.consumer = await runConsumer({
        // The topic prefix isolates environments (and test files) sharing a broker: their
        // consumer groups must be apart too, or members subscribed to other topics share it.
        groupId: `${o.topicPrefix}${PROCESS_MANAGER_GROUP}`,
        topics: Object.keys(PROCESS_MANAGER_TOPICS),
        pool: o.pool,
        kafka: this.kafka,
        topicPrefix: o.topicPrefix,
        logger: o.logger,
        // Safe in parallel: each reaction re-reads the order and appends with its revision, so
        // two partitions touching one order (orders and inventory events) serialise on the stream.
        partitionsConsumedConcurrently: o.processManagerConcurrency,
        // Group commit: up to 32 messages of a partition (distinct orders) per transaction, one
        // WAL flush instead of 32; events the process does not react to (stock levels, ATP) are
        // acknowledged without a transaction at all.
        batch: { maxMessages: 32 },
        accept: (envelope, topic) => toProcessEvent(topic, envelope) !== null,
        handler: processManagerHandler(o.runner),
      });
    }
    if (o.timeoutScanIntervalMs > 0) {
      const clock = o.clock ?? (() => new Date());
      this.timer = setInterval(() => {
        this.scanning = this.scanning
          .then(() => o.timeoutJob.runOnce(clock().toISOString()))
          .catch((e: unknown) => o.logger.warn('reservation timer scan failed', { error: String(e) }));
      }, o.timeoutScanIntervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.publisher?.disconnect();
  }
}
