import { Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { databasePoolTimings, databasePoolMax, ensureDatabaseExists, guardPool, PlatformConfig } from '@flowline/platform';
import { Pool } from 'pg';
import { ChannelsGrpcController } from './api/grpc/channels.grpc-controller';
import { ConnectorsController } from './api/http/connectors.controller';
import { ImportsController } from './api/http/imports.controller';
import { limitImportBody } from './api/http/import-body-limit';
import { registerPushRoutes } from './api/http/push.routes';
import { PullService } from './application/pull.service';
import { DouyinConnector, DouyinStockAdapter, JdConnector, JdStockAdapter, PddConnector, PddStockAdapter, TopConnector, TopStockAdapter } from './infra/connectors/connectors';
import { startAtpConsumer } from './api/messaging/atp.consumer';
import { StockPushService } from './application/stock-push.service';
import { BackgroundStart, messagingLoggerOf, type ConsumerHandle } from '@flowline/messaging';
import type { ImportService } from './application/import.service';
import { channelGatewayConfigFromEnv, type ChannelGatewayConfig } from './infra/channel-gateway.config';
import { channelGatewayMetrics, type ChannelGatewayMetrics } from './infra/channel-gateway.metrics';
import { createImportService } from './infra/import-wiring';
import { migrateChannelGateway, type PgChannelStore } from './infra/pg-channel-store';
import { ProfileRegistry } from './infra/profile-registry';
import { CHANNEL_CONFIG, CHANNEL_METRICS, CHANNEL_POOL, CHANNEL_STORE, IMPORT_SERVICE, PROFILE_REGISTRY, PULL_SERVICE, STOCK_PUSH } from './tokens';

const WIRING = Symbol('WIRING');

/** channel-gateway's features: file imports, quarantine, ingest stats (REST + gRPC). */
@Module({})
export class ChannelGatewayModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private pulling: Promise<unknown> | null = null;
  private stockTimer: NodeJS.Timeout | undefined;
  private pushing: Promise<unknown> | null = null;
  private atpConsumer: ConsumerHandle | null = null;
  /** The ATP consumer, started in the background (see onApplicationBootstrap). */
  private atpSide?: BackgroundStart;

  constructor(
    @Inject(CHANNEL_POOL) private readonly pool: Pool,
    @Inject(PULL_SERVICE) private readonly pulls: PullService,
    @Inject(CHANNEL_CONFIG) private readonly config: ChannelGatewayConfig,
    @Inject(STOCK_PUSH) private readonly stock: StockPushService,
    @Inject(CHANNEL_METRICS) private readonly metrics: ChannelGatewayMetrics,
    @Inject(CHANNEL_STORE) private readonly store: PgChannelStore,
    private readonly http: HttpAdapterHost,
  ) {
    // Here, not in onModuleInit: Nest registers the controllers' routes before that hook runs.
    limitImportBody(this.http.httpAdapter.getInstance<FastifyInstance>(), this.config.importBodyLimitBytes);
  }

  onModuleInit(): void {
    registerPushRoutes(this.http.httpAdapter.getInstance<FastifyInstance>(), this.pulls);
  }

  /** The poller: every shop in turn, one round at a time (a slow round is never overlapped). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.stockPush && this.config.shops.length > 0) {
      // In the background, retried until the broker answers (the group joined before it counts as
      // started): imports, pulls and pushes serve while Kafka is away or the group rebalances.
      this.atpSide = new BackgroundStart('channel-gateway atp consumer', {
        logger: messagingLoggerOf(new Logger('channel-gateway')),
        attempt: async () => {
          this.atpConsumer = await startAtpConsumer(this.pool, this.stock, this.config.topicPrefix);
        },
        stopParts: async () => {
          const consumer = this.atpConsumer;
          this.atpConsumer = null;
          await consumer?.stop();
        },
      });
      await this.atpSide.begin();
      this.stockTimer = setInterval(() => {
        if (this.pushing) return;
        this.pushing = this.stock
          .pushDue()
          .catch(() => undefined)
          .finally(() => (this.pushing = null));
      }, this.config.stockPushIntervalMs);
      this.stockTimer.unref();
    }
    if (this.config.pollIntervalMs <= 0 || this.config.shops.length === 0) return;
    this.timer = setInterval(() => {
      if (this.pulling) return;
      this.pulling = this.pulls
        .pullAll()
        .catch(() => undefined)
        .then(async () => this.metrics.lag(await this.store.checkpoints(), Date.now()))
        .catch(() => undefined)
        .finally(() => (this.pulling = null));
    }, this.config.pollIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.stockTimer) clearInterval(this.stockTimer);
    await this.atpSide?.stop();
    await this.pulling;
    await this.pushing;
    await this.pool.end();
  }

  static forRoot(config: ChannelGatewayConfig = channelGatewayConfigFromEnv()): DynamicModule {
    return {
      module: ChannelGatewayModule,
      controllers: [ImportsController, ConnectorsController, ChannelsGrpcController],
      providers: [
        { provide: CHANNEL_CONFIG, useValue: config },
        {
          provide: CHANNEL_POOL,
          inject: [PlatformConfig],
          useFactory: async (platform: PlatformConfig) => {
            if (!platform.database) throw new Error('channel-gateway needs its database');
            await ensureDatabaseExists(platform.database.url);
            // At least 2: a stock push takes the shop's shared allowance on a second connection while its SKU lock is held on the first.
            const pool = new Pool({ connectionString: platform.database.url, max: Math.max(2, databasePoolMax(8)), ...databasePoolTimings() });
            guardPool(pool);
            await migrateChannelGateway(pool);
            return pool;
          },
        },
        { provide: PROFILE_REGISTRY, useFactory: () => ProfileRegistry.fromEnv() },
        { provide: CHANNEL_METRICS, useFactory: () => channelGatewayMetrics() },
        {
          provide: WIRING,
          inject: [CHANNEL_POOL, PROFILE_REGISTRY, CHANNEL_METRICS],
          useFactory: (pool: Pool, profiles: ProfileRegistry, metrics: ChannelGatewayMetrics) => createImportService(pool, config.orderIntakeUrl, profiles, metrics),
        },
        { provide: IMPORT_SERVICE, inject: [WIRING], useFactory: (w: { service: ImportService }) => w.service },
        { provide: CHANNEL_STORE, inject: [WIRING], useFactory: (w: { store: PgChannelStore }) => w.store },
        {
          provide: STOCK_PUSH,
          inject: [CHANNEL_POOL],
          useFactory: (pool: Pool) => new StockPushService({ pool, shops: config.shops, adapters: [new DouyinStockAdapter(), new TopStockAdapter(), new JdStockAdapter(), new PddStockAdapter()], perSecond: config.stockPushPerSecond, now: () => Date.now() }),
        },
        {
          provide: PULL_SERVICE,
          inject: [WIRING],
          useFactory: (w: { service: ImportService; store: PgChannelStore }) =>
            new PullService({
              store: w.store,
              imports: w.service,
              connectors: [new TopConnector(), new PddConnector(), new DouyinConnector(), new JdConnector()],
              shops: config.shops,
              now: () => new Date(),
              initialLookbackMs: config.initialLookbackMs,
            }),
        },
      ],
    };
  }
}
