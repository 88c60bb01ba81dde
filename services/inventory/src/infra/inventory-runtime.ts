import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Topics } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import {
  backoffDelay,
  BACKGROUND_START_FIRST_WAIT_MS,
  settleBackgroundStart,
  createKafka,
  ensureTopics,
  errorMessage,
  EventPublisher,
  EventRelay,
  forgetReadiness,
  messagingLoggerOf,
  reportReadiness,
  retentionFromEnv,
  sleep,
  startRetentionJob,
  DEFAULT_INBOX_TABLE,
  type MessagingLogger,
  relayCheckpointIntervalFromEnv,
} from '@flowline/messaging';
import { PlatformConfig, ulidFactory } from '@flowline/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { commandBatchHandler } from '../api/messaging/inventory-commands.consumer';
import { InventoryService } from '../application/inventory.service';
import type { CommandMeta } from '../application/inventory-commands';
import { StockUnitOfWork } from '../application/stock-unit-of-work';
import { GroupCommitConsumer } from './group-commit-consumer';
import { INVENTORY_STREAM_PREFIXES, inventoryRelayRoute, PUBLISHED_STORED_TYPES } from './inventory-relay.routes';
import { inventorySettingsFromEnv, type InventorySettings } from './inventory-settings';
import { inventoryMetrics } from './inventory.metrics';
import { PgInventoryStore, type WarehouseRow } from './pg-inventory-store';

/** Readiness component of the Kafka side (topics, producer, relay). */
export const MESSAGING_COMPONENT = 'inventory messaging';

/**
 * Wires inventory's adapters around the platform's DataSource (its pg pool): event store,
 * unit of work, the command consumer, the relay to `inventory.events.v1`, and the expiry sweeper.
 * Migrations run in onModuleInit; consuming starts in onApplicationBootstrap (after app.init());
 * everything stops in beforeApplicationShutdown.
 */
@Injectable()
export class InventoryRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly settings: InventorySettings = inventorySettingsFromEnv();
  private readonly log = new Logger('inventory');
  private readonly ulid = ulidFactory();
  private pool!: Pool;
  private events!: PostgresEventStore;
  store!: PgInventoryStore;
  uow!: StockUnitOfWork;
  service!: InventoryService;
  private kafka?: Kafka;
  private consumer?: GroupCommitConsumer;
  private publisher?: EventPublisher;
  private relay?: EventRelay;
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;
  private warehouseCache?: { at: number; rows: WarehouseRow[] };
  private topicsStep?: Promise<void>;
  private retention?: { stop(): Promise<void> };
  private starting: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: PlatformConfig,
  ) {}

  newId(): string {
    return this.ulid();
  }

  /** Metadata for a command accepted at an edge of this process. */
  meta(over: Partial<CommandMeta> = {}): CommandMeta {
    const commandId = over.commandId ?? this.newId();
    return { commandId, correlationId: commandId, at: new Date().toISOString(), ...over };
  }

  async warehouses(): Promise<WarehouseRow[]> {
    const now = Date.now();
    if (!this.warehouseCache || now - this.warehouseCache.at > 5_000) this.warehouseCache = { at: now, rows: await this.store.warehouses() };
    return this.warehouseCache.rows;
  }

  forgetWarehouses(): void {
    this.warehouseCache = undefined;
  }

  async onModuleInit(): Promise<void> {
    // The platform's TypeORM DataSource is a pg Pool underneath: one pool for the whole service.
    this.pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    this.events = await PostgresEventStore.create({ pool: this.pool });
    this.store = new PgInventoryStore(this.pool);
    await this.store.migrate();
    this.uow = new StockUnitOfWork({
      store: this.store,
      events: this.events,
      strategy: this.settings.strategy,
      warehouses: () => this.warehouses(),
      newId: () => this.newId(),
      ...inventoryMetrics(),
    });
    this.service = new InventoryService(this.store, this.uow, this.events, () => this.warehouses());
  }

  /**
   * Starts the expiry sweeper at once and the Kafka side (topics, relay, command consumer) in the
   * background, so HTTP and gRPC serve within seconds of a restart (a consumer group rejoin after
   * a crash waits for the old member's session). Until topics, producer and relay are up the
   * `inventory messaging` component reports not ready; failures are retried with backoff.
   */
  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    if (s.expirySweepMs > 0) {
      this.sweeper = setInterval(() => void this.sweepExpiries(), s.expirySweepMs);
      this.sweeper.unref();
    }
    // Inbox rows and Idempotency-Key replies are pruned by age (INBOX_RETENTION_DAYS, IDEMPOTENCY_RETENTION_DAYS).
    const retention = retentionFromEnv();
    this.retention = startRetentionJob(
      this.pool,
      [
        { table: DEFAULT_INBOX_TABLE, column: 'processed_at', days: retention.inboxDays },
        { table: 'inventory.http_idempotency', column: 'created_at', days: retention.idempotencyDays },
      ],
      retention.intervalMs,
      this.messagingLogger(),
    );
    if (!this.config.kafka || (!s.consume && !s.relay)) return;
    const brokers = this.config.kafka.brokers;
    reportReadiness(MESSAGING_COMPONENT, false, 'starting: topics, producer and relay');
    // Topics first, briefly awaited (clients that subscribe right after boot find them); an
    // unreachable broker does not hold the boot: the background below keeps trying.
    this.kafka = createKafka({ brokers, clientId: 'inventory' });
    await settleBackgroundStart(this.ensureTopicsOnce().catch(() => undefined), BACKGROUND_START_FIRST_WAIT_MS);
    this.starting = (async () => {
      for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
        try {
          await this.startKafka(brokers);
          reportReadiness(MESSAGING_COMPONENT, true);
          this.log.log(`inventory running: consumer ${s.consume ? s.consumerGroup : 'off'}, relay ${s.relay ? 'on' : 'off'}, strategy ${s.strategy.name}`);
          return;
        } catch (e) {
          reportReadiness(MESSAGING_COMPONENT, false, errorMessage(e));
          this.log.warn(`inventory messaging could not start (attempt ${attempt + 1}); retrying: ${errorMessage(e)}`);
          if (!(await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }), this.abort.signal))) return;
        }
      }
    })();
  }

  /** Creates the topics (once; a failed attempt is forgotten so the next one tries again). */
  private ensureTopicsOnce(): Promise<void> {
    const kafka = this.kafka;
    if (!kafka) return Promise.reject(new Error('no Kafka client'));
    const s = this.settings;
    this.topicsStep ??= (async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [Topics.inventoryCommands, Topics.inventoryEvents, Topics.inventoryStock], { partitions: s.partitions, prefix: s.topicPrefix });
      } finally {
        await admin.disconnect();
      }
    })().catch((e: unknown) => {
      this.topicsStep = undefined;
      throw e;
    });
    return this.topicsStep;
  }

  /** Each step once: a retry after a failure goes on from where it stopped. */
  private async startKafka(brokers: string[]): Promise<void> {
    const s = this.settings;
    const logger = this.messagingLogger();
    this.kafka ??= createKafka({ brokers, clientId: 'inventory' });
    await this.ensureTopicsOnce();
    if (s.relay && !this.relay) {
      if (!this.publisher) {
        const publisher = new EventPublisher({ kafka: this.kafka, topicPrefix: s.topicPrefix, maxBatchSize: s.relayBatch });
        await publisher.connect();
        this.publisher = publisher;
      }
      const relay = new EventRelay({
        name: 'inventory',
        checkpointIntervalMs: relayCheckpointIntervalFromEnv(),
        store: this.events,
        publisher: this.publisher,
        route: inventoryRelayRoute,
        // An event this build cannot map is parked in inventory.events.v1.dlq, not a stop.
        parkingTopic: Topics.inventoryEvents,
        pool: this.pool,
        filter: { streamPrefixes: INVENTORY_STREAM_PREFIXES, eventTypes: PUBLISHED_STORED_TYPES },
        // Bigger pages than the default 500: a busy batch writes thousands of events at once.
        batchSize: s.relayBatch,
        logger,
      });
      await relay.start();
      this.relay = relay;
    }
    if (s.consume && !this.consumer && !this.abort.signal.aborted) {
      const consumer = new GroupCommitConsumer({
        kafka: this.kafka,
        groupId: s.consumerGroup,
        topics: [Topics.inventoryCommands],
        topicPrefix: s.topicPrefix,
        maxBatchSize: s.batchMax,
        lingerMs: s.lingerMs,
        logger,
        // Joined in the background: the API serves while the group rebalances.
        awaitJoin: false,
        processBatch: commandBatchHandler({
          group: s.consumerGroup,
          execute: (commands) => this.uow.execute(commands),
          newId: () => this.newId(),
          now: () => new Date().toISOString(),
          logger,
        }),
      });
      await consumer.start();
      this.consumer = consumer;
    }
  }

  /** Resolves once the Kafka side started (tests and the benchmark; the service never waits for it). */
  async messagingReady(): Promise<void> {
    await this.starting;
  }

  /** Releases reserve-on-placement holds whose expiry is due. Safe on every replica at once. */
  async sweepExpiries(now: string = new Date().toISOString()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      let released = 0;
      for (;;) {
        const due = await this.store.dueReservations(now, 500);
        if (due.length === 0) return released;
        const results = await this.uow.execute(due.map((orderId) => ({ type: 'ExpireReservation' as const, meta: this.meta({ at: now, correlationId: `expiry-${orderId}` }), orderId })));
        released += results.filter((r) => r.status === 'applied' && r.outcome.kind === 'reservation-end' && r.outcome.result.kind === 'released').length;
        if (due.length < 500) return released;
      }
    } catch (e) {
      this.log.warn(`expiry sweep failed: ${(e as Error).message}`);
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  /** Consumer statistics (transactions and commands applied) for the benchmark and metrics. */
  consumerStats() {
    return this.consumer?.stats;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    if (this.sweeper) clearInterval(this.sweeper);
    await this.retention?.stop();
    await this.starting;
    forgetReadiness(MESSAGING_COMPONENT);
    await this.consumer?.stop().catch((e) => this.log.warn(`consumer stop: ${(e as Error).message}`));
    await this.relay?.stop().catch((e) => this.log.warn(`relay stop: ${(e as Error).message}`));
    await this.publisher?.disconnect().catch(() => undefined);
    await this.events?.close().catch(() => undefined);
  }

  private messagingLogger(): MessagingLogger {
    return messagingLoggerOf(this.log);
  }
}
