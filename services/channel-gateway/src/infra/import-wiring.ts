import type { Pool } from 'pg';
import { ImportService } from '../application/import.service';
import type { ChannelGatewayMetrics } from './channel-gateway.metrics';
import { readTable } from './file-reader';
import { OrderIntakeHttpClient } from './order-intake.http-client';
import { PgChannelStore } from './pg-channel-store';
import type { ProfileRegistry } from './profile-registry';

/** One ImportService wired to PostgreSQL and order-intake's REST API: the service and the CLI share it. */
export function createImportService(pool: Pool, orderIntakeUrl: string, profiles: ProfileRegistry, metrics?: ChannelGatewayMetrics): { service: ImportService; store: PgChannelStore } {
  const store = new PgChannelStore(pool);
  const service = new ImportService({ store, orderIntake: new OrderIntakeHttpClient(orderIntakeUrl), profiles, readTable, now: () => new Date(), ...(metrics ? { metrics } : {}) });
  return { service, store };
}
