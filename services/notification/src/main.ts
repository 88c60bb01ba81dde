// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { migrate as migrateEventStore } from '@flowline/eventstore';
import { messagingMigrations, messagingMigrationScope, pgTransactions } from '@flowline/messaging';
import { migrateOnlyRequested, RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS, runMigrateOnly, runMigrations, runService } from '@flowline/platform';
import type { Pool } from 'pg';
import { migrateNotification } from './infra/notification-store';
import { AppModule } from './app.module';
import { SERVICE } from './service';

/** Every migration scope of the service's database (boot runs the same, under the same lock). */
async function migrateAll(pool: Pool): Promise<Record<string, unknown>> {
  const eventstore = await migrateEventStore(pool);
  await migrateNotification(pool);
  const messaging = await runMigrations(pgTransactions(pool), messagingMigrationScope(), messagingMigrations());
  // The versioned notification rules (ADR 0021).
  const ruleDocuments = await runMigrations(pgTransactions(pool), RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS);
  return { eventstore, notification: 'done', messaging, 'platform.rule-documents': ruleDocuments };
}

// `main.js migrate` / MIGRATE_ONLY=1: run every migration scope of the database and exit (k8s Job flowline-migrate-notification).
if (migrateOnlyRequested()) runMigrateOnly(SERVICE.name, migrateAll);
else runService(SERVICE, AppModule);
