import { Module, type ModuleMetadata } from '@nestjs/common';
import { PlatformModule } from '@flowline/platform';
import { ChannelGatewayModule } from './channel-gateway.module';
import { SERVICE } from './service';

/**
 * The service's own feature modules (api/, application/, projections/, infra/ wiring). Add each
 * new module here; PlatformModule already provides config, logging, the database, health and metrics.
 */
export const FEATURE_MODULES: NonNullable<ModuleMetadata['imports']> = [ChannelGatewayModule.forRoot()];

@Module({
  imports: [PlatformModule.forRoot({ serviceName: SERVICE.name }), ...FEATURE_MODULES],
})
export class AppModule {}
