// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { migrateOnlyRequested, runMigrateOnly, runService } from '@flowline/platform';
import { AppModule } from './app.module';
import { migrateOrderIntakeDatabase } from './infra/order-intake-schema';
import { SERVICE } from './service';

// `main.js migrate` / MIGRATE_ONLY=1: run every migration scope of the database and exit (k8s Job flowline-migrate-order-intake).
if (migrateOnlyRequested()) runMigrateOnly(SERVICE.name, migrateOrderIntakeDatabase);
else runService(SERVICE, AppModule);
