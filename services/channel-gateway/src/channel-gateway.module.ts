import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ensureDatabaseExists, PlatformConfig } from '@flowline/platform';
import { Pool } from 'pg';
import { ChannelsGrpcController } from './api/grpc/channels.grpc-controller';
import { ConnectorsController } from './api/http/connectors.controller';
import { ImportsController } from './api/http/imports.controller';
import { registerPushRoutes } from './api/http/push.routes';
import { PullService } from './application/pull.service';
import { DouyinConnector, PddConnector, TopConnector } from './infra/connectors/connectors';
import type { ImportService } from './application/import.service';
import { channelGatewayConfigFromEnv, type ChannelGatewayConfig } from './infra/channel-gateway.config';
import { channelGatewayMetrics, type ChannelGatewayMetrics } from './infra/channel-gateway.metrics';
import { createImportService } from './infra/import-wiring';
import { migrateChannelGateway, type PgChannelStore } from './infra/pg-channel-store';
import { ProfileRegistry } from './infra/profile-registry';
import { CHANNEL_CONFIG, CHANNEL_METRICS, CHANNEL_POOL, CHANNEL_STORE, IMPORT_SERVICE, PROFILE_REGISTRY, PULL_SERVICE } from './tokens';

const WIRING = Symbol('WIRING');

/** channel-gateway's features: file imports, quarantine, ingest stats (REST + gRPC). */
@Module({})
export class ChannelGatewayModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private pulling: Promise<unknown> | null = null;

  constructor(
    @Inject(CHANNEL_POOL) private readonly pool: Pool,
    @Inject(PULL_SERVICE) private readonly pulls: PullService,
    @Inject(CHANNEL_CONFIG) private readonly config: ChannelGatewayConfig,
    private readonly http: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    registerPushRoutes(this.http.httpAdapter.getInstance<FastifyInstance>(), this.pulls);
  }

  /** The poller: every shop in turn, one round at a time (a slow round is never overlapped). */
  onApplicationBootstrap(): void {
    if (this.config.pollIntervalMs <= 0 || this.config.shops.length === 0) return;
    this.timer = setInterval(() => {
      if (this.pulling) return;
      this.pulling = this.pulls
        .pullAll()
        .catch(() => undefined)
        .finally(() => (this.pulling = null));
    }, this.config.pollIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pulling;
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
            const pool = new Pool({ connectionString: platform.database.url, max: 8 });
            pool.on('error', () => undefined);
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
          provide: PULL_SERVICE,
          inject: [WIRING],
          useFactory: (w: { service: ImportService; store: PgChannelStore }) =>
            new PullService({
              store: w.store,
              imports: w.service,
              connectors: [new TopConnector(), new PddConnector(), new DouyinConnector()],
              shops: config.shops,
              now: () => new Date(),
              initialLookbackMs: config.initialLookbackMs,
            }),
        },
      ],
    };
  }
}
