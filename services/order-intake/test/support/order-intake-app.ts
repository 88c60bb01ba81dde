import { bootstrapService, PlatformModule, type RunningService } from '@flowline/platform';
import type { DynamicModule } from '@nestjs/common';
import { OrderIntakeModule } from '../../src/order-intake.module';
import { DEFAULT_RULES_FILE, type OrderIntakeConfig } from '../../src/infra/order-intake.config';
import { SERVICE } from '../../src/service';

/** Boots order-intake in this process on a test database and topic prefix (free ports). */
export async function startOrderIntake(options: { databaseUrl: string; topicPrefix: string } & Partial<OrderIntakeConfig>): Promise<RunningService> {
  const { databaseUrl, ...overrides } = options;
  const config: OrderIntakeConfig = {
    rulesFile: DEFAULT_RULES_FILE,
    ruleParams: {},
    reservationTimeoutMs: 15 * 60_000,
    timeoutScanIntervalMs: 0,
    afterSalesDays: 15,
    archiveScanIntervalMs: 0,
    shortageRetryIntervalMs: 0,
    inventoryUrl: 'http://127.0.0.1:1',
    relay: true,
    processManager: true,
    processManagerConcurrency: 4,
    topicPartitions: 3,
    eventStoreSchema: 'eventstore',
    ...overrides,
  };
  class OrderIntakeTestRoot {}
  const root: DynamicModule = {
    module: OrderIntakeTestRoot,
    imports: [PlatformModule.forRoot({ serviceName: SERVICE.name, database: { url: databaseUrl } }), OrderIntakeModule.forRoot(config)],
  };
  return bootstrapService({
    name: SERVICE.name,
    module: root,
    httpPort: 0,
    grpcPort: 0,
    grpcPackages: [...SERVICE.grpcPackages],
    host: '127.0.0.1',
    shutdownHooks: false,
  });
}
