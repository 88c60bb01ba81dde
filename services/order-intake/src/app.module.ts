import { Module, type ModuleMetadata } from '@nestjs/common';
import { PlatformModule } from '@flowline/platform';
import { OrderIntakeModule } from './order-intake.module';
import { PortalModule } from './portal/portal.module';
import { SERVICE } from './service';

/**
 * The service's own feature modules (api/, application/, projections/, infra/ wiring). Add each
 * new module here; PlatformModule already provides config, logging, the database, health and metrics.
 */
const orderIntake = OrderIntakeModule.forRoot();
export const FEATURE_MODULES: NonNullable<ModuleMetadata['imports']> = [orderIntake, PortalModule.forRoot({ orderIntake })];

@Module({
  imports: [PlatformModule.forRoot({ serviceName: SERVICE.name }), ...FEATURE_MODULES],
})
export class AppModule {}
