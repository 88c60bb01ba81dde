import { Module } from '@nestjs/common';
import { ApprovalGrpcController } from './api/grpc/approval.grpc-controller';
import { ApprovalsController } from './api/http/approvals.controller';
import { ChainRules, ChainRulesController } from './api/http/chain-rules.controller';
import { ChangeRequestsController } from './api/http/change-requests.controller';
import { TestClockController } from './api/http/test-clock.controller';
import { ApprovalRuntime } from './infra/approval-runtime';

/** Approval's features: chains, the ApprovalRequest aggregate, REST inbox and decisions, the command consumer, relay and timers. */
@Module({
  controllers: [ApprovalsController, ChangeRequestsController, ChainRulesController, TestClockController, ApprovalGrpcController],
  // ChainRules after ApprovalRuntime: it puts the versioned chains in force at module init (ADR 0021).
  providers: [ApprovalRuntime, ChainRules],
  exports: [ApprovalRuntime],
})
export class ApprovalModule {}
