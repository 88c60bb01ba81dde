import { principalOf, Requires } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { approvalV1 } from '@flowline/contracts';
import { isDomainError } from '@flowline/domain';
import { optionalId, pageSize, requireId } from '@flowline/platform';
import { ApprovalCommands, type Decision } from '../../application/approval.commands';
import { approvalView, type ApprovalView } from '../../application/approval.view';
import { ApprovalRuntime } from '../../infra/approval-runtime';
import { actorFrom, shopsOf } from '../actor';
import { ApprovalErrors } from '../../domain/approval.errors';

type A = approvalV1.Approval;

const STATUS: Record<string, A['status']> = {
  pending: 'APPROVAL_STATUS_PENDING' as A['status'],
  returned: 'APPROVAL_STATUS_RETURNED' as A['status'],
  granted: 'APPROVAL_STATUS_GRANTED' as A['status'],
  rejected: 'APPROVAL_STATUS_REJECTED' as A['status'],
  withdrawn: 'APPROVAL_STATUS_WITHDRAWN' as A['status'],
};
type S = approvalV1.ApprovalStep['status'];
const STEP: Record<string, S> = {
  waiting: 'STEP_STATUS_WAITING' as S,
  active: 'STEP_STATUS_ACTIVE' as S,
  returned: 'STEP_STATUS_RETURNED' as S,
  approved: 'STEP_STATUS_APPROVED' as S,
  rejected: 'STEP_STATUS_REJECTED' as S,
  expired: 'STEP_STATUS_EXPIRED' as S,
  skipped: 'STEP_STATUS_SKIPPED' as S,
};

function toProto(v: ApprovalView, ruleId = '', ruleSetVersion = ''): A {
  return {
    approvalId: v.approvalId,
    orderId: v.orderId,
    chain: v.chain,
    status: STATUS[v.status] ?? ('APPROVAL_STATUS_UNSPECIFIED' as A['status']),
    steps: v.steps.map((s) => ({ step: s.step, role: s.role ?? '', status: STEP[s.status] ?? ('STEP_STATUS_UNSPECIFIED' as S), decidedBy: s.decidedBy ?? '', comment: s.comment ?? '', decidedAt: s.decidedAt ?? '' })),
    currentStep: v.currentStep ?? '',
    orderTotal: v.grandTotal !== null ? { amount: v.grandTotal, currency: v.currency ?? 'CNY' } : undefined,
    ruleId,
    ruleSetVersion,
    requestedAt: v.requestedAt,
    decidedAt: v.decidedAt ?? '',
    version: v.revision,
  };
}

/** gRPC `flowline.approval.v1.ApprovalService`: the same use cases as REST; the actor comes from the verified token (`meta.actor` is ignored). */
@Controller()
export class ApprovalGrpcController {
  private readonly commands: ApprovalCommands;

  constructor(private readonly runtime: ApprovalRuntime) {
    this.commands = new ApprovalCommands(runtime);
  }

  @GrpcMethod('ApprovalService', 'ListPendingApprovals')
  @Requires('read', 'Approval')
  async listPending(req: approvalV1.ListPendingApprovalsRequest, metadata: Metadata): Promise<approvalV1.ListPendingApprovalsResponse> {
    // Out-of-range page sizes and malformed roles are refused (INVALID_ARGUMENT naming the field), never clamped.
    const size = pageSize('page.pageSize', req.page?.pageSize, { max: 200 }) ?? 50;
    const rows = await this.runtime.queries.pendingByRole(optionalId('role', req.role) ?? null, size, shopsOf(metadata));
    const approvals = await Promise.all(rows.map(async (id) => { const { state, revision } = await this.runtime.service.get(id); return toProto(approvalView(state, revision), state.ruleId, state.ruleSetVersion); }));
    return { approvals, page: { nextPageToken: '', totalSize: approvals.length } };
  }

  @GrpcMethod('ApprovalService', 'Approve')
  @Requires('approve', 'Approval')
  async approve(req: approvalV1.ApproveRequest, metadata: Metadata): Promise<approvalV1.ApproveResponse> {
    return { approval: await this.decide(metadata, req.meta, req.approvalId, { kind: 'approve', step: requireId('step', req.step), ...(req.comment ? { comment: req.comment } : {}) }) };
  }

  @GrpcMethod('ApprovalService', 'Reject')
  @Requires('approve', 'Approval')
  async reject(req: approvalV1.RejectRequest, metadata: Metadata): Promise<approvalV1.RejectResponse> {
    return { approval: await this.decide(metadata, req.meta, req.approvalId, { kind: 'reject', step: requireId('step', req.step), reason: req.reason }) };
  }

  @GrpcMethod('ApprovalService', 'GetApproval')
  @Requires('read', 'Approval')
  async getApproval(req: approvalV1.GetApprovalRequest, metadata: Metadata): Promise<approvalV1.GetApprovalResponse> {
    const approvalId = requireId('approvalId', req.approvalId);
    // Another shop's approval is not found for a shop-limited user, as an unknown one.
    if (!(await this.runtime.queries.approvalInShops(approvalId, shopsOf(metadata)))) throw ApprovalErrors.notFound(approvalId);
    const { state, revision } = await this.runtime.service.get(approvalId);
    return { approval: toProto(approvalView(state, revision), state.ruleId, state.ruleSetVersion) };
  }

  @GrpcMethod('ApprovalService', 'ListMyPendingSteps')
  @Requires('read', 'Approval')
  async listMine(req: approvalV1.ListMyPendingStepsRequest, metadata: Metadata): Promise<approvalV1.ListMyPendingStepsResponse> {
    const actor = actorFrom(principalOf(metadata));
    const rows = await this.runtime.queries.inbox(actor, Date.now(), undefined, shopsOf(metadata));
    return {
      steps: rows.map((r) => ({
        approvalId: r.approvalId,
        orderId: r.orderId,
        chain: r.chain,
        kind: r.kind,
        step: r.step,
        startedAt: r.startedAt,
        remindAt: r.remindAt,
        dueAt: r.dueAt,
        escalated: r.escalated,
        slaColour: r.sla,
        via: r.via,
      })),
    };
  }

  @GrpcMethod('ApprovalService', 'ReturnForChanges')
  @Requires('approve', 'Approval')
  async giveBack(req: approvalV1.ReturnForChangesRequest, metadata: Metadata): Promise<approvalV1.ReturnForChangesResponse> {
    return { approval: await this.decide(metadata, req.meta, req.approvalId, { kind: 'return', step: requireId('step', req.step), comment: req.comment }) };
  }

  @GrpcMethod('ApprovalService', 'Resubmit')
  @Requires('create', 'Approval')
  async resubmit(req: approvalV1.ResubmitRequest, metadata: Metadata): Promise<approvalV1.ResubmitResponse> {
    return { approval: await this.decide(metadata, req.meta, req.approvalId, { kind: 'resubmit', ...(req.comment ? { comment: req.comment } : {}) }) };
  }

  @GrpcMethod('ApprovalService', 'Delegate')
  @Requires('approve', 'Approval')
  async delegate(req: approvalV1.DelegateRequest, metadata: Metadata): Promise<approvalV1.DelegateResponse> {
    return { approval: await this.decide(metadata, req.meta, req.approvalId, { kind: 'delegate', step: requireId('step', req.step), to: requireId('to', req.to), ...(req.reason ? { reason: req.reason } : {}) }) };
  }

  @GrpcMethod('ApprovalService', 'BulkApprove')
  @Requires('approve', 'Approval')
  async bulk(req: approvalV1.BulkApproveRequest, metadata: Metadata): Promise<approvalV1.BulkApproveResponse> {
    const actor = actorFrom(principalOf(metadata));
    (req.items ?? []).forEach((item, i) => {
      requireId(`items.${i}.approvalId`, item.approvalId);
      requireId(`items.${i}.step`, item.step);
    });
    const results: approvalV1.BulkApproveResult[] = [];
    for (const item of req.items) {
      try {
        await this.commands.decide(item.approvalId, { kind: 'approve', step: item.step, ...(req.comment ? { comment: req.comment } : {}) }, actor, { ...(req.meta?.requestId ? { idempotencyKey: `${req.meta.requestId}:${item.approvalId}:${item.step}` } : {}), shops: shopsOf(metadata) });
        results.push({ approvalId: item.approvalId, step: item.step, ok: true, code: '', message: '' });
      } catch (e) {
        if (!isDomainError(e)) throw e;
        results.push({ approvalId: item.approvalId, step: item.step, ok: false, code: e.code, message: e.message });
      }
    }
    return { results };
  }

  private async decide(metadata: Metadata, meta: approvalV1.ApproveRequest['meta'], approvalId: string, decision: Decision): Promise<A> {
    requireId('approvalId', approvalId);
    const actor = actorFrom(principalOf(metadata));
    const view = await this.commands.decide(approvalId, decision, actor, {
      shops: shopsOf(metadata),
      ...(meta?.requestId ? { idempotencyKey: meta.requestId } : {}),
      ...(meta?.correlationId ? { correlationId: meta.correlationId } : {}),
    });
    return toProto(view);
  }
}
