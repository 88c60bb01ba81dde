import { type DynamicModule, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import { Pool } from 'pg';
import { databasePoolTimings, databasePoolMax, PlatformConfig } from '../config';
import { PgThrottlerStorage, type ThrottleRecord } from './pg-throttler.storage';
import { customerCapsFromEnv, CUSTOMER_CAPS, CustomerCapsInterceptor, type CustomerCap } from './customer-caps';
import { throttleConfigFromEnv, type ThrottleConfig } from './throttle.config';
import { FlowlineThrottlerGuard, type IdentityResolver, IdentityThrottleInterceptor, THROTTLE_IDENTITY, THROTTLE_IDENTITY_OF, THROTTLE_IP } from './throttle.guard';

const log = new Logger('throttle');

/**
 * The shared store behind the limits: the service's own database (its own small pool, opened on the
 * first counted request). Without a database (a service with `database: false`) every request
 * passes. A database error lets the request through (logged): an outage of the counter must not
 * take the service down with it; the service's own work fails on its own if the database is away.
 */
@Injectable()
export class SharedThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private pool: Pool | null = null;
  private storage: PgThrottlerStorage | null = null;
  private warnedAt = 0;

  constructor(@Inject(PlatformConfig) private readonly platform: PlatformConfig) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottleRecord> {
    const open: ThrottleRecord = { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    if (!this.platform.database) return open;
    if (!this.storage) {
      this.pool = new Pool({ connectionString: this.platform.database.url, max: databasePoolMax(4), ...databasePoolTimings() });
      this.pool.on('error', () => undefined);
      this.storage = new PgThrottlerStorage(this.pool);
    }
    try {
      return await this.storage.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        log.warn(`rate-limit counter unavailable, request let through: ${(error as Error).message}`);
      }
      return open;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
  }
}

/**
 * Rate limits for a service (libs/platform README, "Rate limits"): @nestjs/throttler with
 * two named limits, `ip` (global guard, before authentication) and `identity` (interceptor, after
 * it), both counted in PostgreSQL so every instance shares the count; over the limit -> 429
 * problem+json with Retry-After. Routes tighten their own with `@Throttle({ ip: { limit, ttl } })`.
 */
@Module({})
export class ThrottleModule {
  /** `identityOf`: how to find the verified principal (PlatformModule passes @flowline/auth's `principalOf`). */
  static forRoot(options: { config?: ThrottleConfig; identityOf?: IdentityResolver; customerCaps?: CustomerCap[] } = {}): DynamicModule {
    const config = options.config ?? throttleConfigFromEnv();
    return {
      module: ThrottleModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [SharedThrottlerStorage],
          useFactory: (storage: SharedThrottlerStorage) => ({
            storage,
            throttlers: [
              { name: THROTTLE_IP, ttl: config.windowMs, limit: config.perIp },
              { name: THROTTLE_IDENTITY, ttl: config.windowMs, limit: config.perIdentity },
            ],
          }),
          imports: [ThrottleStorageModule],
        }),
      ],
      providers: [
        { provide: THROTTLE_IDENTITY_OF, useValue: options.identityOf ?? (() => undefined) },
        { provide: APP_GUARD, useClass: FlowlineThrottlerGuard },
        { provide: APP_INTERCEPTOR, useClass: IdentityThrottleInterceptor },
        { provide: CUSTOMER_CAPS, useValue: options.customerCaps ?? customerCapsFromEnv() },
        { provide: APP_INTERCEPTOR, useClass: CustomerCapsInterceptor },
      ],
    };
  }
}

@Module({ providers: [SharedThrottlerStorage], exports: [SharedThrottlerStorage] })
class ThrottleStorageModule {}
