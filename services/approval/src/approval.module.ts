import { Module } from '@nestjs/common';
import { ApprovalGrpcController } from './api/grpc/approval.grpc-controller';
import { ApprovalsController } from './api/http/approvals.controller';
import { ChangeRequestsController } from './api/http/change-requests.controller';
import { TestClockController } from './api/http/test-clock.controller';
import { ApprovalRuntime } from './infra/approval-runtime';

/** Approval's features: chains, the ApprovalRequest aggregate, REST inbox and decisions, the command consumer, relay and timers. */
@Module({
  controllers: [ApprovalsController, ChangeRequestsController, TestClockController, ApprovalGrpcController],
  providers: [ApprovalRuntime],
  exports: [ApprovalRuntime],
})
export class ApprovalModule {}
