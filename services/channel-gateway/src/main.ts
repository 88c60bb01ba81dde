// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { migrateOnlyRequested, runMigrateOnly, runMigrations, runService } from '@flowline/platform';
import type { Pool } from 'pg';
import { migrateChannelGateway } from './infra/pg-channel-store';
import { AppModule } from './app.module';
import { SERVICE } from './service';

/** Every migration scope of the service's database (boot runs the same, under the same lock). */
async function migrateAll(pool: Pool): Promise<Record<string, unknown>> {
  await migrateChannelGateway(pool);
  const messaging = await runMigrations(pgTransactions(pool), messagingMigrationScope(), messagingMigrations());
  return { 'channel-gateway': 'done', messaging };
}

// `main.js migrate` / MIGRATE_ONLY=1: run every migration scope of the database and exit (k8s Job flowline-migrate-channel-gateway).
if (migrateOnlyRequested()) runMigrateOnly(SERVICE.name, migrateAll);
else runService(SERVICE, AppModule);
