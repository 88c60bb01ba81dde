import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { databasePoolTimings, databasePoolMax, guardPool, PlatformConfig } from '@flowline/platform';
import { Pool } from 'pg';
import { PgOrderStore } from '../infra/pg-order-store';
import { PortalController } from './portal.controller';
import { portalConfigFromEnv, type PortalConfig } from './portal.config';
import { loadPortalKeys } from './portal-keys';
import { PortalService } from './portal.service';
import { migratePortal, PortalStore } from './portal.store';
import { NotificationSmsSender, type PortalSmsSender } from './sms.sender';

const PORTAL_POOL = Symbol('PORTAL_POOL');

@Injectable()
class PortalPoolCloser implements OnApplicationShutdown {
  constructor(@Inject(PORTAL_POOL) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

export interface PortalModuleOptions {
  /** The OrderIntakeModule.forRoot() instance of the app (the portal reads orders through its PgOrderStore). */
  orderIntake: DynamicModule;
  config?: PortalConfig;
  sms?: PortalSmsSender;
}

/**
 * The customer portal's identity in order-intake (services/order-intake README, "Customer portal"):
 * one-time codes by SMS through notification, signed links, customer tokens signed with
 * order-intake's own ES256 key. (Per-customer caps on portal actions: libs/platform customer-caps.)
 */
@Module({})
export class PortalModule {
  static forRoot(options: PortalModuleOptions): DynamicModule {
    const config = options.config ?? portalConfigFromEnv();
    return {
      module: PortalModule,
      imports: [options.orderIntake],
      controllers: [PortalController],
      providers: [
        {
          provide: PORTAL_POOL,
          inject: [PlatformConfig, PgOrderStore],
          // After PgOrderStore: order-intake's pool has created the database and its tables by then.
          useFactory: async (platform: PlatformConfig) => {
            if (!platform.database) throw new Error('the portal needs order-intake database');
            const pool = new Pool({ connectionString: platform.database.url, max: databasePoolMax(4), ...databasePoolTimings() });
            guardPool(pool);
            await migratePortal(pool);
            return pool;
          },
        },
        PortalPoolCloser,
        {
          provide: PortalService,
          inject: [PORTAL_POOL, PgOrderStore],
          useFactory: (pool: Pool, orders: PgOrderStore) => {
            const keys = loadPortalKeys(config);
            new Logger('portal').log(`customer tokens: issuer ${config.issuer}, kid ${keys.kid} (keys from ${keys.source})`);
            return new PortalService(config, keys, new PortalStore(pool), orders, pool, options.sms ?? new NotificationSmsSender(config.notificationUrl));
          },
        },
      ],
    };
  }
}
