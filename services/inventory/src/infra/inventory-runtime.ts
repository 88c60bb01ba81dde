import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Topics } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import { createKafka, ensureTopics, EventPublisher, EventRelay, messagingLoggerOf, type MessagingLogger } from '@flowline/messaging';
import { PlatformConfig } from '@flowline/platform';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { commandBatchHandler } from '../api/messaging/inventory-commands.consumer';
import { InventoryService } from '../application/inventory.service';
import type { CommandMeta } from '../application/inventory-commands';
import { StockUnitOfWork } from '../application/stock-unit-of-work';
import { GroupCommitConsumer } from './group-commit-consumer';
import { INVENTORY_STREAM_PREFIXES, inventoryRelayRoute, PUBLISHED_STORED_TYPES } from './inventory-relay.routes';
import { inventorySettingsFromEnv, type InventorySettings } from './inventory-settings';
import { inventoryMetrics } from './inventory.metrics';
import { PgInventoryStore, type WarehouseRow } from './pg-inventory-store';

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
  private readonly ulid = monotonicFactory();
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

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    if (!this.config.kafka || (!s.consume && !s.relay)) return;
    const logger = this.messagingLogger();
    this.kafka = createKafka({ brokers: this.config.kafka.brokers, clientId: 'inventory' });
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [Topics.inventoryCommands, Topics.inventoryEvents], { partitions: s.partitions, prefix: s.topicPrefix });
    } finally {
      await admin.disconnect();
    }
    if (s.relay) {
      this.publisher = new EventPublisher({ kafka: this.kafka, topicPrefix: s.topicPrefix, maxBatchSize: s.relayBatch });
      await this.publisher.connect();
      this.relay = new EventRelay({
        name: 'inventory',
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
      await this.relay.start();
    }
    if (s.consume) {
      this.consumer = new GroupCommitConsumer({
        kafka: this.kafka,
        groupId: s.consumerGroup,
        topics: [Topics.inventoryCommands],
        topicPrefix: s.topicPrefix,
        maxBatchSize: s.batchMax,
        lingerMs: s.lingerMs,
        logger,
        processBatch: commandBatchHandler({
          group: s.consumerGroup,
          execute: (commands) => this.uow.execute(commands),
          newId: () => this.newId(),
          now: () => new Date().toISOString(),
          logger,
        }),
      });
      await this.consumer.start();
    }
    if (s.expirySweepMs > 0) {
      this.sweeper = setInterval(() => void this.sweepExpiries(), s.expirySweepMs);
      this.sweeper.unref();
    }
    this.log.log(`inventory running: consumer ${s.consume ? s.consumerGroup : 'off'}, relay ${s.relay ? 'on' : 'off'}, strategy ${s.strategy.name}`);
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
    if (this.sweeper) clearInterval(this.sweeper);
    await this.consumer?.stop().catch((e) => this.log.warn(`consumer stop: ${(e as Error).message}`));
    await this.relay?.stop().catch((e) => this.log.warn(`relay stop: ${(e as Error).message}`));
    await this.publisher?.disconnect().catch(() => undefined);
    await this.events?.close().catch(() => undefined);
  }

  private messagingLogger(): MessagingLogger {
    return messagingLoggerOf(this.log);
  }
}
