import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { type ConsoleConfig, consoleConfigFromEnv, webBuilt } from './console.config';
import { registerWebApp } from './web-app';
import { AuthCallbackController, ConsoleController } from './console.controller';
import { ConsoleAuth } from './auth/console-auth';
import { OidcClient } from './auth/oidc-client';
import { pgTransactions } from '@flowline/messaging';
import { databasePoolTimings, ensureDatabaseExists, guardPool, PlatformConfig, runMigrations } from '@flowline/platform';
import { Pool } from 'pg';
import { CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS, PgSessionStore } from './auth/pg-session.store';
import { sealerFromEnv } from './auth/session-crypto';
import { CONSOLE_AUTH, CONSOLE_CONFIG, CONSOLE_POOL } from './console.module.tokens';
import { registerForwarding } from './forwarding';

/**
 * The BFF: /api/<service>/<path> is forwarded to <service URL>/<path> (e.g.
 * /api/order-intake/api/orders -> order-intake's /api/orders) with the session's bearer token; every other
 * GET is the web app (its files, else index.html for the client-side routes). No business rules here.
 */
@Module({})
export class ConsoleModule implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('console');

  static forRoot(config: ConsoleConfig = consoleConfigFromEnv()): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController, AuthCallbackController],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        {
          // Sessions live in the console's own database (flowline_console), migrated at boot (and by the
          // flowline-migrate-console Job before a rollout), so every replica shares them (ADR 0014).
          provide: CONSOLE_POOL,
          inject: [PlatformConfig],
          useFactory: async (platform: PlatformConfig): Promise<Pool> => {
            if (!platform.database) throw new Error('console: sessions need the console database (DATABASE_URL)');
            await ensureDatabaseExists(platform.database.url);
            const pool = new Pool({ connectionString: platform.database.url, max: 6, ...databasePoolTimings() });
            guardPool(pool);
            await runMigrations(pgTransactions(pool), CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS);
            return pool;
          },
        },
        {
          provide: CONSOLE_AUTH,
          inject: [CONSOLE_POOL],
          useFactory: (pool: Pool) => {
            const sealer = sealerFromEnv(process.env, (msg) => new Logger('console').warn(msg));
            const store = new PgSessionStore(pool, sealer, {
              // Not a count cap in the database: lapsed rows are swept (absolute, idle, a customer token's end).
              maxSessions: 0,
              maxPending: 2_000,
              pendingTtlMs: 10 * 60_000,
              absoluteTtlMs: config.sessionMaxAgeMs,
              idleTtlMs: config.sessionIdleMs,
            });
            return new ConsoleAuth(store, new OidcClient(config.oidc), config.cookieSecure);
          },
        },
      ],
    };
  }

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(CONSOLE_AUTH) private readonly auth: ConsoleAuth,
    @Inject(CONSOLE_POOL) private readonly pool: Pool,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const auth = this.auth;
    await registerForwarding(fastify, {
      upstreams: this.config.upstreams,
      bearerFor: (headers) => auth.bearerFor(headers),
      ...(this.config.publicUrl ? { publicUrl: this.config.publicUrl } : {}),
    });
    const webDir = this.config.webDir;
    if (!webBuilt(webDir)) this.log.warn(`web app not built in ${webDir}: serving a placeholder page`);
    await registerWebApp(fastify, webDir);
  }
}
