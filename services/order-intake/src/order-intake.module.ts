import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PostgresEventStore } from '@flowline/eventstore';
import { messagingLoggerOf, type MessagingLogger } from '@flowline/messaging';
import { databasePoolTimings, ensureDatabaseExists, PlatformConfig, ShutdownSteps } from '@flowline/platform';
import { Pool } from 'pg';
import { ChangeOrderHandler } from './application/change-order.handler';
import { OrderQueries } from './application/order-queries';
import { PlaceOrderHandler } from './application/place-order.handler';
import { ProcessManagerRunner } from './application/process-manager.runner';
import { ReleaseOrderHandler } from './application/release-order.handler';
import { PresaleDeadlineJob } from './application/presale-deadline.job';
import { ReservationTimeoutJob } from './application/reservation-timeout.job';
import { ShortageRetryJob } from './application/shortage-retry.job';
import { InventoryStockHttpClient } from './infra/inventory-stock.http-client';
import { ShortagesHttpController } from './api/http/shortages.controller';
import { AfterSalesArchiveRunner } from './infra/after-sales-archive.runner';
import { OrdersGrpcController } from './api/grpc/orders.grpc-controller';
import { OrdersHttpController } from './api/http/orders.controller';
import { OrderApi } from './api/order-api';
import { orderIntakeConfigFromEnv, orderPoolSize, type OrderIntakeConfig } from './infra/order-intake.config';
import { migrateOrderIntake } from './infra/order-intake-schema';
import { countQueries } from './infra/db-query-counter';
import { OrderMessaging } from './infra/order-messaging';
import { PgIdempotencyStore } from './infra/pg-idempotency-store';
import { PgOrderStore } from './infra/pg-order-store';
import { FlowRuleStore } from './infra/rule-set.store';
import { FlowRulesHttpController } from './api/http/rules.controller';

export const ORDER_INTAKE_CONFIG = Symbol('ORDER_INTAKE_CONFIG');
/** Pool of the service database for the event store, order-intake's tables and idempotency keys (a request uses one connection). */
export const ORDER_POOL = Symbol('ORDER_POOL');

const log = new Logger('order-intake');
const messagingLogger: MessagingLogger = messagingLoggerOf(log);

function databaseUrl(platform: PlatformConfig): string {
  if (!platform.database) throw new Error('order-intake needs its database (PlatformModule.forRoot with database)');
  return platform.database.url;
}

/** Starts and stops what runs beside the request handlers: relay, process manager, timers (reservation, after-sales archive), rule watcher, pools. */
@Injectable()
export class OrderIntakeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private messaging: OrderMessaging | null = null;

  constructor(
    @Inject(ORDER_INTAKE_CONFIG) private readonly config: OrderIntakeConfig,
    @Inject(PlatformConfig) private readonly platform: PlatformConfig,
    @Inject(ORDER_POOL) private readonly pool: Pool,
    @Inject(PostgresEventStore) private readonly eventStore: PostgresEventStore,
    @Inject(ProcessManagerRunner) private readonly runner: ProcessManagerRunner,
    @Inject(ReservationTimeoutJob) private readonly timeoutJob: ReservationTimeoutJob,
    @Inject(PresaleDeadlineJob) private readonly presaleJob: PresaleDeadlineJob,
    @Inject(FlowRuleStore) private readonly rules: FlowRuleStore,
    @Inject(AfterSalesArchiveRunner) private readonly archiver: AfterSalesArchiveRunner,
    @Inject(ShutdownSteps) private readonly steps: ShutdownSteps,
    @Inject(ShortageRetryJob) private readonly shortageJob: ShortageRetryJob,
  ) {}

  private shortageTimer: NodeJS.Timeout | null = null;
  private shortageRunning = false;

  /** Orders waiting for stock, tried again every ORDER_SHORTAGE_RETRY_INTERVAL_MS (one run at a time per replica). */
  private startShortageRetry(): void {
    const every = this.config.shortageRetryIntervalMs;
    if (every <= 0) return;
    this.shortageTimer = setInterval(() => {
      if (this.shortageRunning) return;
      this.shortageRunning = true;
      void this.shortageJob
        .runOnce(new Date().toISOString())
        .then((o) => o.retried.length > 0 && log.log(`shortage retry: ${o.retried.length} of ${o.candidates} waiting orders sent to inventory again (${o.retried.join(', ')})`))
        .catch((e: unknown) => log.warn(`shortage retry failed, tried again in ${every} ms: ${(e as Error).message}`))
        .finally(() => (this.shortageRunning = false));
    }, every);
    this.shortageTimer.unref();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.messaging = new OrderMessaging({
      brokers: this.platform.kafka?.brokers ?? ['127.0.0.1:9092'],
      topicPrefix: this.config.topicPrefix,
      partitions: this.config.topicPartitions,
      pool: this.pool,
      eventStore: this.eventStore,
      runner: this.runner,
      timeoutJob: this.timeoutJob,
      presaleJob: this.presaleJob,
      relay: this.config.relay && this.platform.kafka !== null,
      processManager: this.config.processManager && this.platform.kafka !== null,
      timeoutScanIntervalMs: this.config.timeoutScanIntervalMs,
      processManagerConcurrency: this.config.processManagerConcurrency,
      logger: messagingLogger,
    });
    await this.messaging.start();
    this.archiver.start();
    this.startShortageRetry();
    const rs = this.rules.current();
    log.log(`flow rules ${rs.ruleSetVersion} (${rs.hash}) from ${this.rules.path}`);
  }

  // Every step timed and bounded (issue #18): the platform logs them all when the stop ends.
  async beforeApplicationShutdown(): Promise<void> {
    this.rules.close();
    if (this.shortageTimer) clearInterval(this.shortageTimer);
    const run = this.steps.run.bind(this.steps);
    await Promise.all([
      run('after-sales archive stop', () => this.archiver.stop(), 3_000),
      run('shortage retry runs', () => this.shortageJob.idle(), 3_000),
      this.messaging?.stop(run),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.steps.run('event store close', () => this.eventStore.close(), 3_000);
    // pg's end() waits for every checked-out client: a reaction still running past its consumer's
    // stop bound would hold it for as long as it runs.
    await this.steps.run('order pool end', () => this.pool.end(), 3_000);
  }
}

/**
 * order-intake's features: the order aggregate behind REST (/api/orders) and gRPC
 * (flowline.orders.v1.OrderService), the flow rules, the relay and the order process manager.
 * Needs PlatformModule (database, Kafka brokers) in the root module.
 */
@Module({})
export class OrderIntakeModule {
  static forRoot(config: OrderIntakeConfig = orderIntakeConfigFromEnv()): DynamicModule {
    return {
      module: OrderIntakeModule,
      controllers: [OrdersHttpController, ShortagesHttpController, FlowRulesHttpController, OrdersGrpcController],
      providers: [
        { provide: ORDER_INTAKE_CONFIG, useValue: config },
        {
          provide: ORDER_POOL,
          inject: [PlatformConfig],
          useFactory: async (platform: PlatformConfig) => {
            const url = databaseUrl(platform);
            await ensureDatabaseExists(url);
            const pool = new Pool({ connectionString: url, max: orderPoolSize(config), ...databasePoolTimings() });
            pool.on('error', (e) => log.warn(`idle database connection lost: ${e.message}`));
            countQueries(pool, 'order-intake');
            await migrateOrderIntake(pool);
            return pool;
          },
        },
        {
          provide: PostgresEventStore,
          inject: [ORDER_POOL, ORDER_INTAKE_CONFIG],
          useFactory: (pool: Pool, cfg: OrderIntakeConfig) => PostgresEventStore.create({ pool, schema: cfg.eventStoreSchema }),
        },
        {
          // Versions in the service database, seeded from the rules file (docs/adr/0021-rule-documents.md).
          provide: FlowRuleStore,
          inject: [ORDER_POOL, ORDER_INTAKE_CONFIG],
          useFactory: (pool: Pool, cfg: OrderIntakeConfig) =>
            FlowRuleStore.open(pool, {
              seedFile: cfg.rulesFile,
              paramOverrides: cfg.ruleParams,
              onChange: (r) => log.log(`flow rules v${r.version} in force: ${r.value.ruleSetVersion} (${r.value.hash}) by ${r.author}`),
              onInvalid: (e) => log.error(`flow rules: a stored version cannot be used, the previous one stays in force: ${e.message}`),
            }),
        },
        { provide: PgOrderStore, inject: [ORDER_POOL, PostgresEventStore], useFactory: (pool: Pool, es: PostgresEventStore) => new PgOrderStore(pool, es) },
        { provide: ChangeOrderHandler, inject: [PgOrderStore, FlowRuleStore], useFactory: (s: PgOrderStore, r: FlowRuleStore) => new ChangeOrderHandler(s, r) },
        { provide: PlaceOrderHandler, inject: [PgOrderStore, FlowRuleStore], useFactory: (s: PgOrderStore, r: FlowRuleStore) => new PlaceOrderHandler(s, r) },
        {
          provide: ReleaseOrderHandler,
          inject: [PgOrderStore, ChangeOrderHandler, FlowRuleStore],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, r: FlowRuleStore) => new ReleaseOrderHandler(s, c, r),
        },
        { provide: OrderQueries, inject: [PgOrderStore], useFactory: (s: PgOrderStore) => new OrderQueries(s) },
        { provide: PgIdempotencyStore, inject: [ORDER_POOL], useFactory: (p: Pool) => new PgIdempotencyStore(p) },
        {
          provide: OrderApi,
          inject: [PlaceOrderHandler, ChangeOrderHandler, ReleaseOrderHandler, OrderQueries, PgIdempotencyStore],
          useFactory: (p: PlaceOrderHandler, c: ChangeOrderHandler, r: ReleaseOrderHandler, q: OrderQueries, i: PgIdempotencyStore) => new OrderApi(p, c, r, q, i),
        },
        {
          provide: ProcessManagerRunner,
          inject: [PgOrderStore, ChangeOrderHandler, FlowRuleStore],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, r: FlowRuleStore) =>
            new ProcessManagerRunner(s, c, r, () => new Date().toISOString(), { warn: (m, f) => log.warn(`${m} ${JSON.stringify(f ?? {})}`) }),
        },
        {
          provide: ReservationTimeoutJob,
          inject: [PgOrderStore, ChangeOrderHandler, ORDER_INTAKE_CONFIG],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, cfg: OrderIntakeConfig) => new ReservationTimeoutJob(s, c, cfg.reservationTimeoutMs),
        },
        {
          provide: PresaleDeadlineJob,
          inject: [PgOrderStore, ChangeOrderHandler, FlowRuleStore],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, r: FlowRuleStore) => new PresaleDeadlineJob(s, c, r),
        },
        {
          provide: ShortageRetryJob,
          inject: [PgOrderStore, ChangeOrderHandler, ORDER_INTAKE_CONFIG],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, cfg: OrderIntakeConfig) => new ShortageRetryJob(s, c, new InventoryStockHttpClient(cfg.inventoryUrl), 500, 100, (m) => log.warn(m)),
        },
        {
          provide: AfterSalesArchiveRunner,
          inject: [PgOrderStore, ChangeOrderHandler, ORDER_INTAKE_CONFIG],
          useFactory: (s: PgOrderStore, c: ChangeOrderHandler, cfg: OrderIntakeConfig) =>
            new AfterSalesArchiveRunner(s, c, {
              windowDays: cfg.afterSalesDays,
              scanIntervalMs: cfg.archiveScanIntervalMs,
              logger: { warn: (m, f) => log.warn(`${m} ${JSON.stringify(f ?? {})}`) },
            }),
        },
        OrderIntakeLifecycle,
      ],
      exports: [OrderApi, ChangeOrderHandler, PgOrderStore, FlowRuleStore],
    };
  }
}
