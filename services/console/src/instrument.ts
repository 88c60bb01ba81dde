// Imported first by main.ts: OpenTelemetry must start before the modules it instruments load.
import { startTelemetry } from '@flowline/observability';
import { SERVICE } from './service';

startTelemetry({ serviceName: SERVICE.name });
