// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { runService } from '@flowline/platform';
import { AppModule } from './app.module';
import { SERVICE } from './service';

runService(SERVICE, AppModule);
