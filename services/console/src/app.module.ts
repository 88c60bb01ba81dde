import { Module } from '@nestjs/common';
import { PlatformModule } from '@flowline/platform';
import { ConsoleModule } from './console.module';
import { SERVICE } from './service';

/**
 * The console serves the web app and forwards to the services. Its own database (flowline_console)
 * holds only the login sessions (ADR 0014); no Kafka.
 */
@Module({
  imports: [PlatformModule.forRoot({ serviceName: SERVICE.name, kafka: false }), ConsoleModule.forRoot()],
})
export class AppModule {}
