import { type DynamicModule, Module } from '@nestjs/common';
import { TrackingGrpcController } from './api/grpc/tracking.grpc.controller';
import { AuditController } from './api/http/audit.controller';
import { TrackingAdminController } from './api/http/tracking-admin.controller';
import { TrackingController } from './api/http/tracking.controller';
import { BoardController } from './api/http/board.controller';
import { CLOCK, systemClock, type Clock } from './infra/clock';
import { TrackingRuntime } from './infra/tracking-runtime';
import { TRACKING_CONFIG, trackingConfigFromEnv, type TrackingConfig } from './tracking.config';

export interface TrackingModuleOptions {
  /** Default: the system clock. Tests pass a ManualClock to drive SLA colours without sleeping. */
  clock?: Clock;
  /** Overrides of the environment's settings (tests: topic prefix, consumer group). */
  config?: Partial<TrackingConfig>;
}

/** Tracking's features: projections fed from Kafka, the SLA clock job, REST + SSE, gRPC, rebuild admin. */
@Module({})
export class TrackingModule {
  static forRoot(options: TrackingModuleOptions = {}): DynamicModule {
    return {
      module: TrackingModule,
      controllers: [TrackingController, TrackingAdminController, BoardController, AuditController, TrackingGrpcController],
      providers: [
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: TRACKING_CONFIG, useFactory: () => ({ ...trackingConfigFromEnv(), ...options.config }) },
        TrackingRuntime,
      ],
      exports: [TrackingRuntime],
    };
  }
}
