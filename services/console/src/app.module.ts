import { Module } from '@nestjs/common';
import { PlatformModule } from '@flowline/platform';
import { ConsoleModule } from './console.module';
import { SERVICE } from './service';

/** The console has no database and no Kafka: it only serves the web app and forwards to the services. */
@Module({
  imports: [PlatformModule.forRoot({ serviceName: SERVICE.name, database: false, kafka: false }), ConsoleModule.forRoot()],
})
export class AppModule {}
