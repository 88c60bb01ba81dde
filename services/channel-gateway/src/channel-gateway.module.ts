import { Inject, Module, type DynamicModule, type OnModuleDestroy } from '@nestjs/common';
import { ensureDatabaseExists, PlatformConfig } from '@flowline/platform';
import { Pool } from 'pg';
import { ChannelsGrpcController } from './api/grpc/channels.grpc-controller';
import { ImportsController } from './api/http/imports.controller';
import type { ImportService } from './application/import.service';
import { channelGatewayConfigFromEnv, type ChannelGatewayConfig } from './infra/channel-gateway.config';
import { channelGatewayMetrics, type ChannelGatewayMetrics } from './infra/channel-gateway.metrics';
import { createImportService } from './infra/import-wiring';
import { migrateChannelGateway, type PgChannelStore } from './infra/pg-channel-store';
import { ProfileRegistry } from './infra/profile-registry';
import { CHANNEL_METRICS, CHANNEL_POOL, CHANNEL_STORE, IMPORT_SERVICE, PROFILE_REGISTRY } from './tokens';

const WIRING = Symbol('WIRING');

/** channel-gateway's features: file imports, quarantine, ingest stats (REST + gRPC). */
@Module({})
export class ChannelGatewayModule implements OnModuleDestroy {
  constructor(@Inject(CHANNEL_POOL) private readonly pool: Pool) {}

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  static forRoot(config: ChannelGatewayConfig = channelGatewayConfigFromEnv()): DynamicModule {
    return {
      module: ChannelGatewayModule,
      controllers: [ImportsController, ChannelsGrpcController],
      providers: [
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
      ],
    };
  }
}
