// Keep './instrument' the first import: it starts OpenTelemetry before anything else loads.
import './instrument';
import { bootstrapService, envPort } from '@flowline/platform';
import { AppModule } from './app.module';
import { SERVICE } from './service';

bootstrapService({
  ...SERVICE,
  module: AppModule,
  httpPort: envPort('HTTP_PORT', SERVICE.httpPort),
  grpcPort: envPort('GRPC_PORT', SERVICE.grpcPort),
}).catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: SERVICE.name, msg: 'boot failed', err: String((error as Error)?.stack ?? error) })}\n`);
  process.exit(1);
});
