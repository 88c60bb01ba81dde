import { type DynamicModule, Module } from '@nestjs/common';
import { ANALYTICS_CONFIG, analyticsConfigFromEnv, type AnalyticsConfig } from './analytics.config';
import { AnalyticsGrpcController } from './api/grpc/analytics.grpc.controller';
import { AnalyticsAdminController } from './api/http/analytics-admin.controller';
import { CustomersController } from './api/http/customers.controller';
import { ForecastController } from './api/http/forecast.controller';
import { ReconciliationController } from './api/http/reconciliation.controller';
import { SalesController } from './api/http/sales.controller';
import { AnalyticsRuntime } from './infra/analytics-runtime';

export interface AnalyticsModuleOptions {
  /** Overrides of the environment's settings (tests: topic prefix, consumer group). */
  config?: Partial<AnalyticsConfig>;
}

/** Analytics' features: facts projected from Kafka, sales / customer / forecast / reconciliation queries over REST and gRPC, rebuild admin. */
@Module({})
export class AnalyticsModule {
  static forRoot(options: AnalyticsModuleOptions = {}): DynamicModule {
    return {
      module: AnalyticsModule,
      controllers: [SalesController, CustomersController, ForecastController, ReconciliationController, AnalyticsAdminController, AnalyticsGrpcController],
      providers: [{ provide: ANALYTICS_CONFIG, useFactory: () => ({ ...analyticsConfigFromEnv(), ...options.config }) }, AnalyticsRuntime],
      exports: [AnalyticsRuntime],
    };
  }
}
