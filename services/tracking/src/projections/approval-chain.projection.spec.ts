import { describe, expect, it } from 'vitest';
import { approvalChains } from './approval-chain.projection';

const T = (m: number) => `2026-12-04T0${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:00.000Z`;
const ids = { approvalId: 'ap-1', orderId: 'o-1' };
const ev = (type: string, m: number, data: Record<string, unknown>) => ({ type, occurredAt: T(m), data: { ...ids, ...data } });
const plan = (step: string, role: string) => ({ step, role, quorum: 'any', slaMs: 28_800_000, remindAfterMs: 21_600_000, skip: false });

describe('approval chain on the order', () => {
  it('shows each step with its state, actor and time, reminders, escalation, delegation and skips', () => {
    const chains = approvalChains([
      ev('ApprovalRequested', 0, { chain: 'custom-order', steps: ['sales_review', 'design_review', 'cost_review', 'gm_approval'], kind: 'order', chainVersion: '2026.12.1', plan: [plan('sales_review', 'sales'), plan('design_review', 'designer'), plan('cost_review', 'cost_accountant'), plan('gm_approval', 'general_manager')], requestedAt: T(0) }),
      ev('ApprovalStepStarted', 0, { step: 'sales_review', role: 'sales', quorum: 'any', attempt: 1, startedAt: T(0), remindAt: T(360), dueAt: T(480) }),
      ev('ApprovalStepApproved', 5, { step: 'sales_review', role: 'sales', by: 'u-sales', comment: '客户已确认', approvedAt: T(5) }),
      ev('ApprovalStepStarted', 5, { step: 'design_review', role: 'designer', quorum: 'any', attempt: 1, startedAt: T(5), remindAt: T(365), dueAt: T(485) }),
      ev('ApprovalStepDelegated', 6, { step: 'design_review', from: 'role:designer', to: 'user:u-d2', by: 'u-d1', reason: '休假', delegatedAt: T(6) }),
      ev('ApprovalReturned', 7, { chain: 'custom-order', step: 'design_review', by: 'u-d2', role: 'designer', comment: '尺寸需改', kind: 'order', chainVersion: '2026.12.1', returnedAt: T(7) }),
      ev('ApprovalResubmitted', 9, { step: 'design_review', by: 'u-sales', resubmittedAt: T(9) }),
      ev('ApprovalStepStarted', 9, { step: 'design_review', role: 'designer', quorum: 'any', attempt: 2, startedAt: T(9), remindAt: T(369), dueAt: T(489) }),
      ev('ApprovalStepApproved', 10, { step: 'design_review', role: 'designer', by: 'u-d2', approvedAt: T(10) }),
      ev('ApprovalStepSkipped', 10, { step: 'cost_review', reason: 'below the amount', skippedAt: T(10) }),
      ev('ApprovalStepStarted', 10, { step: 'gm_approval', role: 'general_manager', quorum: 'any', attempt: 1, startedAt: T(10), remindAt: T(370), dueAt: T(490) }),
      ev('ApprovalStepReminded', 370, { step: 'gm_approval', attempt: 1, principals: ['role:general_manager'], remindedAt: T(370), dueAt: T(490) }),
      ev('ApprovalStepEscalated', 490, { step: 'gm_approval', attempt: 1, to: 'role:board', escalatedAt: T(490), expireAt: T(970) }),
      { type: 'OrderPaid', occurredAt: T(1), data: { orderId: 'o-1', amount: 1, currency: 'CNY', paidAt: T(1) } },
    ]);
    expect(chains).toHaveLength(1);
    const [c] = chains;
    expect(c).toMatchObject({ approvalId: 'ap-1', chain: 'custom-order', kind: 'order', chainVersion: '2026.12.1', status: 'pending', decidedAt: null });
    expect(c.steps.map((s) => [s.step, s.state, s.actor?.id ?? null, s.at])).toEqual([
      ['sales_review', 'approved', 'u-sales', T(5)],
      ['design_review', 'approved', 'u-d2', T(10)],
      ['cost_review', 'skipped', null, T(10)],
      ['gm_approval', 'active', null, null],
    ]);
    expect(c.steps[1].delegatedTo).toEqual(['user:u-d2']);
    expect(c.steps[3]).toMatchObject({ dueAt: T(490), remindedAt: T(370), escalatedAt: T(490), escalatedTo: 'role:board' });
  });

  it('a rejection and a withdrawal end the chain with their time', () => {
    const requested = ev('ApprovalRequested', 0, { chain: 'large-order', steps: ['gm_approval'], requestedAt: T(0) });
    const rejected = approvalChains([requested, ev('ApprovalRejected', 3, { chain: 'large-order', step: 'gm_approval', by: 'u-gm', role: 'general_manager', reason: '价格过低', rejectedAt: T(3) })]);
    expect(rejected[0]).toMatchObject({ status: 'rejected', decidedAt: T(3), steps: [{ step: 'gm_approval', state: 'rejected', actor: { id: 'u-gm' }, comment: '价格过低' }] });
    expect(approvalChains([requested, ev('ApprovalWithdrawn', 4, { reason: '订单取消', withdrawnAt: T(4) })])[0]).toMatchObject({ status: 'withdrawn', decidedAt: T(4) });
  });
});
