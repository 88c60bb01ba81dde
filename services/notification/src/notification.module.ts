import { Module } from '@nestjs/common';
import { NotificationGrpcController } from './api/grpc/notification.grpc.controller';
import { InboxController } from './api/http/inbox.controller';
import { NotificationController } from './api/http/notification.controller';
import { NotificationRules, NotificationRulesController } from './api/http/notification-rules.controller';
import { OneTimeMessageController } from './api/http/one-time-message.controller';
import { StaffPreferencesController } from './api/http/staff-preferences.controller';
import { NotificationRuntime } from './infra/notification-runtime';

/** Notification's features: consumer + dispatcher + relay (runtime), REST delivery log / preview / preferences, gRPC. */
@Module({
  controllers: [NotificationController, NotificationRulesController, InboxController, StaffPreferencesController, OneTimeMessageController, NotificationGrpcController],
  // NotificationRules after NotificationRuntime: it puts the versioned rules in force at module init (ADR 0021).
  providers: [NotificationRuntime, NotificationRules],
  exports: [NotificationRuntime],
})
export class NotificationModule {}
