import { type BeforeApplicationShutdown, type DynamicModule, Injectable, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthGuard, authConfigFromEnv, principalOf, TokenVerifier } from '@flowline/auth';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { createLogger, currentTelemetry, KafkaHealthIndicator, KafkaProbe, loggerModule, PostgresHealthIndicator } from '@flowline/observability';
import type { Logger as PinoLogger } from 'pino';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { databaseNameOf, databasePoolTimings, databasePoolMax, kafkaBrokersFromEnv, PlatformConfig, resolveDatabaseUrl, serviceDatabaseName } from './config';
import { ensureDatabaseExists, guardDataSource } from './database';
import { CleanRpcTextInterceptor } from './grpc/clean-rpc-text.interceptor';
import { GrpcHealth } from './grpc/grpc-health';
import { DeadLetterAdmin, DeadLetterController } from './dlq.controller';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { ThrottleModule } from './throttle/throttle.module';
import { ShutdownSteps } from './shutdown-steps';

/** The service's pino root logger (`@Inject(ROOT_LOGGER) logger: pino.Logger`); Nest's Logger writes through it. */
export const ROOT_LOGGER = Symbol.for('flowline.platform.root-logger');

/** The service's own PostgreSQL database, reached through TypeORM. */
export interface PlatformDatabaseOptions {
  /** Full URL; overrides DATABASE_URL (tests pass the URL of a database made for them). */
  url?: string;
  /** Database name when the URL comes from DATABASE_URL or the default; `flowline_<service>` by default. */
  name?: string;
  /** Entities besides those registered with TypeOrmModule.forFeature (which load automatically). */
  entities?: DataSourceOptions['entities'];
  migrations?: DataSourceOptions['migrations'];
  /** Run pending migrations on boot. */
  migrationsRun?: boolean;
  /** Create tables from entities on boot (tests and early development only). */
  synchronize?: boolean;
  /** Connection attempts on boot before giving up (default 5, one second apart). */
  retryAttempts?: number;
  /** Max pooled connections (default 10; DATABASE_POOL_MAX lowers it). */
  poolSize?: number;
}

export interface PlatformModuleOptions {
  serviceName: string;
  /** `false`: the service has no database (readiness then skips PostgreSQL). */
  database?: PlatformDatabaseOptions | false;
  /** `false`: the service does not use Kafka (readiness then skips it). Brokers from KAFKA_BROKERS by default. */
  kafka?: { brokers?: string[] } | false;
}

/**
 * What every service needs around its own features, in one import:
 * config ({@link PlatformConfig}), pino logging, the service's own database (TypeORM DataSource,
 * created on first boot), health endpoints (/health/live, /health/ready), /metrics, and the gRPC
 * health state. Global, so features inject DataSource, PlatformConfig or repositories directly.
 *
 * ```ts
 * @Module({ imports: [PlatformModule.forRoot({ serviceName: 'inventory' }), StockModule] })
 * export class AppModule {}
 * ```
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const config = resolvePlatformConfig(options);
    const rootLogger = createLogger({ serviceName: options.serviceName });
    const providers: Provider[] = [
      { provide: PlatformConfig, useValue: config },
      { provide: ROOT_LOGGER, useValue: rootLogger },
      PostgresHealthIndicator,
      KafkaHealthIndicator,
      GrpcHealth,
      ShutdownSteps,
      ShutdownLog,
      DeadLetterAdmin,
      // Every request needs a verified bearer token (issue #16, libs/auth): REST and gRPC alike.
      { provide: TokenVerifier, useFactory: () => new TokenVerifier(authConfigFromEnv()) },
      { provide: APP_GUARD, useClass: AuthGuard },
      // NUL / lone surrogates in a gRPC request: INVALID_ARGUMENT (REST: the global pipe).
      { provide: APP_INTERCEPTOR, useClass: CleanRpcTextInterceptor },
    ];
    if (config.kafka) {
      const { brokers, clientId } = config.kafka;
      providers.push({
        provide: KafkaProbe,
        inject: [ShutdownSteps],
        useFactory: (steps: ShutdownSteps) => new ClosingKafkaProbe({ brokers, clientId: `${clientId}-health` }, steps),
      });
    }
    const imports: DynamicModule['imports'] = [loggerModule(rootLogger), TerminusModule.forRoot({ logger: false })];
    if (config.database) imports.push(typeOrmFor(config.database.url, options.database || {}));
    // Rate limits per IP and per verified identity (libs/platform README "Rate limits"), shared by instances.
    imports.push(ThrottleModule.forRoot({ identityOf: (req) => principalOf(req) }));
    return {
      module: PlatformModule,
      global: true,
      imports,
      controllers: [HealthController, MetricsController, DeadLetterController],
      providers,
      exports: config.kafka
        ? [PlatformConfig, ROOT_LOGGER, GrpcHealth, TokenVerifier, ShutdownSteps, KafkaProbe]
        : [PlatformConfig, ROOT_LOGGER, GrpcHealth, TokenVerifier, ShutdownSteps],
    };
  }
}

/** Resolves ports-independent settings from the options and the environment. */
export function resolvePlatformConfig(options: PlatformModuleOptions, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  let database: PlatformConfig['database'] = null;
  if (options.database !== false) {
    const db = options.database ?? {};
    const url = resolveDatabaseUrl(db.name ?? serviceDatabaseName(options.serviceName), env, db.url);
    database = { url, name: databaseNameOf(url) };
  }
  const kafka =
    options.kafka === false ? null : { brokers: options.kafka?.brokers ?? kafkaBrokersFromEnv(env), clientId: options.serviceName };
  return new PlatformConfig(options.serviceName, database, kafka);
}

/**
 * Two log lines that show a stop was graceful: when it began (and why) and when every hook had run.
 * Its own pino logger: Nest's logger no longer writes once the app has been disposed.
 */
@Injectable()
class ShutdownLog implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger: PinoLogger;
  private started = 0;

  constructor(
    config: PlatformConfig,
    private readonly steps: ShutdownSteps,
  ) {
    this.logger = createLogger({ serviceName: config.serviceName }).child({ context: 'shutdown' });
  }

  beforeApplicationShutdown(signal?: string): void {
    this.started = performance.now();
    this.logger.info(`stopping (${signal ?? 'close'}): gRPC health NOT_SERVING, closing consumers and pools`);
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    // Last: flush the spans still batched for the exporter, so the stop itself is traced.
    await this.steps.run('telemetry flush', () => currentTelemetry()?.shutdown(), 3_000);
    this.logger.info(`stopped (${signal ?? 'close'}) in ${Math.round(performance.now() - this.started)} ms`);
  }
}

class ClosingKafkaProbe extends KafkaProbe implements OnApplicationShutdown {
  constructor(
    options: ConstructorParameters<typeof KafkaProbe>[0],
    private readonly steps: ShutdownSteps,
  ) {
    super(options);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.steps.run('Kafka health probe close', () => this.close(), 3_000);
  }
}

function typeOrmFor(url: string, db: PlatformDatabaseOptions): DynamicModule {
  return TypeOrmModule.forRootAsync({
    useFactory: (): TypeOrmModuleOptions => ({
      type: 'postgres',
      url,
      autoLoadEntities: true,
      entities: db.entities ?? [],
      migrations: db.migrations ?? [],
      migrationsRun: db.migrationsRun ?? false,
      synchronize: db.synchronize ?? false,
      retryAttempts: db.retryAttempts ?? 5,
      retryDelay: 1_000,
      extra: {
        max: databasePoolMax(db.poolSize ?? 10),
        ...databasePoolTimings(),
        // Fail fast instead of queueing forever when the server is gone.
        connectionTimeoutMillis: 5_000,
        keepAlive: true,
      },
    }),
    // Each service owns its database: create it on first boot (idempotent, race-safe).
    dataSourceFactory: async (options) => {
      if (!options) throw new Error('TypeORM options missing');
      await ensureDatabaseExists(url);
      return guardDataSource(new DataSource(options));
    },
  });
}
