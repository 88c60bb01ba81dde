import { principalOf, Requires } from '@flowline/auth';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { isDomainError } from '@flowline/domain';
import { checkIdempotencyKey, IdParam, requireId } from '@flowline/platform';
import { ApprovalCommands, type Decision } from '../../application/approval.commands';
import { approvalView } from '../../application/approval.view';
import { ApprovalErrors } from '../../domain/approval.errors';
import { ApprovalRuntime } from '../../infra/approval-runtime';
import { actorFrom, shopsOf } from '../actor';
import { ApproveDto, BulkApproveDto, DelegateDto, PendingQueryDto, RejectDto, ResubmitDto, ReturnDto, ReturnedQueryDto } from './dto/approval.dto';


/**
 * REST for approvers: my inbox, one approval, decisions on its current step (approve / reject /
 * return for changes / delegate), resubmission after a return, bulk approve. POSTs take an
 * Idempotency-Key: the same key and body replay the first reply; another body is refused (422).
 */
@ApiTags('approvals')
@Controller('api/approvals')
export class ApprovalsController {
  private readonly commands: ApprovalCommands;

  constructor(private readonly runtime: ApprovalRuntime) {
    this.commands = new ApprovalCommands(runtime);
  }

  @Get('inbox')
  @ApiOperation({ summary: 'Steps waiting for me (by my role, by my name, delegated or escalated to me), oldest first, with SLA colour.' })
  @Requires('read', 'Approval')
  async inbox(@Headers() h: Record<string, string | undefined>) {
    const actor = actorFrom(principalOf(h));
    return { actor, items: await this.runtime.queries.inbox(actor, Date.now(), undefined, shopsOf(h)) };
  }

  @Get('pending')
  @ApiOperation({ summary: 'Every step waiting for a decision (or those waiting for one role), oldest first, with whom it waits for and its SLA colour: where approvals stand, for a supervisor. Deciding stays with the inbox.' })
  @Requires('read', 'Approval')
  async pending(@Query() q: PendingQueryDto, @Headers() h: Record<string, string | undefined>) {
    return { items: await this.runtime.queries.pending(q.role ?? null, Date.now(), q.limit, shopsOf(h)) };
  }

  @Get('returned')
  @ApiOperation({ summary: 'Approvals returned for changes (退回修改) and waiting for a resubmission, longest waiting first, with the returning step, who returned it, when and why, and who requested it. In nobody\'s inbox: resubmitting (POST :approvalId/resubmit) needs create Approval.' })
  @Requires('read', 'Approval')
  async returned(@Query() q: ReturnedQueryDto, @Headers() h: Record<string, string | undefined>) {
    return { items: await this.runtime.queries.returned(q.limit, shopsOf(h)) };
  }

  @Get()
  @ApiOperation({ summary: 'Approvals of an order, oldest first, with each step state, actor and time.' })
  @ApiQuery({ name: 'orderId', required: true })
  @Requires('read', 'Approval')
  async byOrder(@Headers() h: Record<string, string | undefined>, @Query('orderId') orderId?: string) {
    const id = requireId('orderId', orderId);
    // Another shop's order has no approvals for a shop-limited user, as an unknown order.
    if (!(await this.runtime.queries.orderInShops(id, shopsOf(h)))) return { items: [] };
    const states = await this.runtime.queries.byOrder(id);
    return { items: await Promise.all(states.map(async (s) => { const { state, revision } = await this.runtime.service.get(s.approvalId); return approvalView(state, revision); })) };
  }

  @Get('chains')
  @ApiOperation({ summary: 'The chain set in force (version, hash, chains).' })
  @Requires('read', 'Approval')
  chains() {
    return this.runtime.chains.current();
  }

  @Get(':approvalId')
  @ApiOperation({ summary: 'One approval with every step (state, actor, time), the chain version and the revision.' })
  @Requires('read', 'Approval')
  async get(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Headers() h: Record<string, string | undefined>) {
    if (!(await this.runtime.queries.approvalInShops(approvalId, shopsOf(h)))) throw ApprovalErrors.notFound(approvalId);
    const { state, revision } = await this.runtime.service.get(approvalId);
    return approvalView(state, revision);
  }

  @Post('bulk-approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve many current steps at once; each item succeeds or fails on its own (the reply lists both).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('approve', 'Approval')
  async bulk(@Body() dto: BulkApproveDto, @Headers() h: Record<string, string | undefined>, @Headers('idempotency-key') header?: string) {
    const actor = actorFrom(principalOf(h));
    const key = checkIdempotencyKey(header);
    const results = [];
    for (const item of dto.items) {
      try {
        const view = await this.commands.decide(item.approvalId, { kind: 'approve', step: item.step, ...(dto.comment ? { comment: dto.comment } : {}) }, actor, { ...(key ? { idempotencyKey: `${key}:${item.approvalId}:${item.step}` } : {}), shops: shopsOf(h) });
        results.push({ approvalId: item.approvalId, step: item.step, ok: true, status: view.status, currentStep: view.currentStep });
      } catch (e) {
        if (!isDomainError(e)) throw e;
        results.push({ approvalId: item.approvalId, step: item.step, ok: false, code: e.code, message: e.message });
      }
    }
    return { approved: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, results };
  }

  @Post(':approvalId/steps/:step/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve the current step (a vote on an all-of step); the last step grants the approval. 409 APPROVAL_NOT_CURRENT_STEP / APPROVAL_NOT_PENDING; 403 APPROVAL_NOT_AN_APPROVER (not an approver of this step).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('approve', 'Approval')
  approve(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Param('step', new IdParam('step')) step: string, @Body() dto: ApproveDto, @Headers() h: Record<string, string | undefined>) {
    return this.decide(approvalId, { kind: 'approve', step, ...(dto.comment ? { comment: dto.comment } : {}), ...(dto.attachments ? { attachments: dto.attachments.map((a) => ({ name: a.name, url: a.url })) } : {}) }, h);
  }

  @Post(':approvalId/steps/:step/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject at the current step: the approval is rejected (the order is cancelled by order-intake).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('approve', 'Approval')
  reject(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Param('step', new IdParam('step')) step: string, @Body() dto: RejectDto, @Headers() h: Record<string, string | undefined>) {
    return this.decide(approvalId, { kind: 'reject', step, reason: dto.reason }, h);
  }

  @Post(':approvalId/steps/:step/return')
  @HttpCode(200)
  @ApiOperation({ summary: 'Return for changes: the order is kept awaiting approval until the request is resubmitted.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('approve', 'Approval')
  giveBack(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Param('step', new IdParam('step')) step: string, @Body() dto: ReturnDto, @Headers() h: Record<string, string | undefined>) {
    return this.decide(approvalId, { kind: 'return', step, comment: dto.comment, ...(dto.attachments ? { attachments: dto.attachments.map((a) => ({ name: a.name, url: a.url })) } : {}) }, h);
  }

  @Post(':approvalId/steps/:step/delegate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand my part of the current step to a named person.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('approve', 'Approval')
  delegate(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Param('step', new IdParam('step')) step: string, @Body() dto: DelegateDto, @Headers() h: Record<string, string | undefined>) {
    return this.decide(approvalId, { kind: 'delegate', step, to: dto.to, ...(dto.reason ? { reason: dto.reason } : {}) }, h);
  }

  @Post(':approvalId/resubmit')
  @HttpCode(200)
  @ApiOperation({ summary: 'After a return for changes: the returning step decides again (fresh SLA).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @Requires('create', 'Approval')
  resubmit(@Param('approvalId', new IdParam('approvalId')) approvalId: string, @Body() dto: ResubmitDto, @Headers() h: Record<string, string | undefined>) {
    return this.decide(approvalId, { kind: 'resubmit', ...(dto.comment ? { comment: dto.comment } : {}) }, h);
  }

  private decide(approvalId: string, decision: Decision, h: Record<string, string | undefined>) {
    const actor = actorFrom(principalOf(h));
    const key = checkIdempotencyKey(h['idempotency-key']);
    return this.commands.decide(approvalId, decision, actor, {
      shops: shopsOf(h),
      ...(key ? { idempotencyKey: key } : {}),
      ...(h['x-correlation-id'] ? { correlationId: h['x-correlation-id'] } : {}),
    });
  }
}
