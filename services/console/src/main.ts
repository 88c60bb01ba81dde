// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { pgTransactions } from '@flowline/messaging';
import { migrateOnlyRequested, runMigrateOnly, runMigrations, runService } from '@flowline/platform';
import { CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS } from './auth/pg-session.store';
import { AppModule } from './app.module';
import { SERVICE } from './service';

// `main.js migrate` / MIGRATE_ONLY=1: the sessions' tables, then exit (k8s Job flowline-migrate-console).
if (migrateOnlyRequested()) runMigrateOnly(SERVICE.name, async (pool) => ({ console: await runMigrations(pgTransactions(pool), CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS) }));
else runService(SERVICE, AppModule);
