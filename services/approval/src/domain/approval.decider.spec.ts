import { deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { approvalDecider, type ApprovalCommand, type ApprovalEvent, type OpenApproval } from './approval.decider';
import { parseChainSet } from './chains/chain-set.parser';

const chains = parseChainSet(`
chainSetVersion: "t-1"
defaults: { sla: 8h, remindAfter: 6h }
chains:
  custom-order:
    steps:
      - { id: sales_review, role: sales }
      - { id: design_review, role: designer }
      - { id: cost_review, role: cost_accountant, skipWhen: { fact: grandTotal, op: lt, value: 500000 } }
      - { id: gm_approval, role: general_manager, escalateTo: { approver: u-gm-deputy } }
  design-board:
    steps:
      - { id: board, approvers: [u-d1, u-d2], quorum: all, sla: 2h, remindAfter: 1h }
  any-designer:
    steps:
      - { id: pick, approvers: [u-d1, u-d2], quorum: any }
outOfOffice:
  - { user: u-d2, delegateTo: u-d3, from: "2026-12-01T00:00:00Z", until: "2026-12-03T00:00:00Z" }
`);

const spec = deciderSpec(approvalDecider);
const T0 = '2026-12-04T08:00:00.000Z';
const T1 = '2026-12-04T09:00:00.000Z';
const ids = { approvalId: 'ap-1', orderId: 'o-1' };
const sales = { id: 'u-sales', role: 'sales' };
const designer = { id: 'u-design', role: 'designer' };
const cost = { id: 'u-cost', role: 'cost_accountant' };
const gm = { id: 'u-gm', role: 'general_manager' };

function request(chain: string, grandTotal = 1_288_000, now = T0): ApprovalCommand {
  return {
    type: 'RequestApproval',
    data: { ...ids, kind: 'order', chain: chains.chains[chain], chainVersion: chains.version, chainHash: chains.hash, facts: { grandTotal }, currency: 'CNY', ruleId: 'r', ruleSetVersion: 'v', outOfOffice: chains.outOfOffice, now },
  };
}
/** The events deciding `commands` in turn from nothing. */
function history(...commands: ApprovalCommand[]): ApprovalEvent[] {
  const events: ApprovalEvent[] = [];
  for (const c of commands) {
    const state = spec.given(events).state;
    events.push(...approvalDecider.decide(c, state));
  }
  return events;
}
const approve = (step: string, actor = sales, now = T1): ApprovalCommand => ({ type: 'Approve', data: { step, actor, now } });
const types = (events: ApprovalEvent[]) => events.map((e) => e.type);

describe('ApprovalRequest decider', () => {
  it('requested: records the chain version and hash and starts the first step with its SLA and reminder time', () => {
    spec.given([]).when(request('custom-order')).thenEvents((events) => {
      expect(types(events)).toEqual(['ApprovalRequested', 'ApprovalStepStarted']);
      expect(events[0].data).toMatchObject({ chain: 'custom-order', chainVersion: 't-1', chainHash: chains.hash, steps: ['sales_review', 'design_review', 'cost_review', 'gm_approval'] });
      expect(events[1].data).toMatchObject({ step: 'sales_review', role: 'sales', attempt: 1, remindAt: '2026-12-04T14:00:00.000Z', dueAt: '2026-12-04T16:00:00.000Z' });
    });
  });

  it('refuses a second request on the same stream', () => {
    spec.given(history(request('custom-order'))).when(request('custom-order')).thenThrows({ code: 'APPROVAL_ALREADY_REQUESTED' });
  });

  it('step approved: moves to the next step; the last approval grants the whole chain', () => {
    const h = history(request('custom-order'), approve('sales_review'), approve('design_review', designer), approve('cost_review', cost));
    spec.given(h).when(approve('gm_approval', gm)).then([
      { type: 'ApprovalStepApproved', data: { ...ids, step: 'gm_approval', role: 'general_manager', by: 'u-gm', chainVersion: 't-1', approvedAt: T1 } },
      { type: 'ApprovalGranted', data: { ...ids, chain: 'custom-order', kind: 'order', chainVersion: 't-1', grantedAt: T1 } },
    ]);
  });

  it('skip condition: cost review is skipped below 5,000.00 yuan', () => {
    const h = history(request('custom-order', 300_000), approve('sales_review'));
    spec.given(h).when(approve('design_review', designer)).thenEvents((events) => {
      expect(types(events)).toEqual(['ApprovalStepApproved', 'ApprovalStepSkipped', 'ApprovalStepStarted']);
      expect(events[2].data).toMatchObject({ step: 'gm_approval' });
    });
  });

  it('refuses an actor without the step role, and a step that is not current', () => {
    const h = history(request('custom-order'));
    spec.given(h).when(approve('sales_review', designer)).thenThrows({ code: 'APPROVAL_NOT_AN_APPROVER', details: { step: 'sales_review', actor: 'u-design' } });
    spec.given(h).when(approve('design_review', designer)).thenThrows({ code: 'APPROVAL_NOT_CURRENT_STEP', details: { current: 'sales_review' } });
  });

  it('rejected: ends the chain with the step, actor and reason; later decisions are refused', () => {
    const h = history(request('custom-order'), approve('sales_review'), approve('design_review', designer));
    const after = spec.given(h).when({ type: 'Reject', data: { step: 'cost_review', actor: cost, reason: '成本超预算', now: T1 } }).then([
      {
        type: 'ApprovalRejected',
        data: { ...ids, chain: 'custom-order', step: 'cost_review', by: 'u-cost', role: 'cost_accountant', reason: '成本超预算', kind: 'order', chainVersion: 't-1', rejectedAt: T1 },
      },
    ]);
    expect(after.status).toBe('rejected');
    spec.given([...h, ...approvalDecider.decide({ type: 'Reject', data: { step: 'cost_review', actor: cost, reason: 'x', now: T1 } }, spec.given(h).state)])
      .when(approve('cost_review', cost))
      .thenThrows({ code: 'APPROVAL_NOT_PENDING' });
  });

  it('a rejection needs a reason (422 naming the field)', () => {
    spec.given(history(request('custom-order'))).when({ type: 'Reject', data: { step: 'sales_review', actor: sales, reason: ' ', now: T1 } }).thenThrows({ code: 'APPROVAL_INVALID', kind: 'invalid', details: { field: 'reason' } });
  });

  it('returned for changes: the request waits; a resubmission restarts the same step with a fresh SLA, then it can be approved', () => {
    const h = history(request('custom-order'), approve('sales_review'));
    const ret: ApprovalCommand = { type: 'ReturnForChanges', data: { step: 'design_review', actor: designer, comment: '图纸尺寸不对', attachments: [{ name: 'v2.pdf', url: 'https://files/v2.pdf' }], now: T1 } };
    const returned = spec.given(h).when(ret).thenEvents((events) => {
      expect(events).toEqual([
        {
          type: 'ApprovalReturned',
          data: { ...ids, chain: 'custom-order', step: 'design_review', by: 'u-design', role: 'designer', comment: '图纸尺寸不对', attachments: [{ name: 'v2.pdf', url: 'https://files/v2.pdf' }], kind: 'order', chainVersion: 't-1', returnedAt: T1 },
        },
      ]);
    });
    expect(returned.status).toBe('returned');
    const h2 = history(request('custom-order'), approve('sales_review'), ret);
    spec.given(h2).when(approve('design_review', designer)).thenThrows({ code: 'APPROVAL_NOT_PENDING' });
    const T2 = '2026-12-05T08:00:00.000Z';
    spec.given(h2).when({ type: 'Resubmit', data: { actor: sales, comment: '已修改', now: T2 } }).thenEvents((events) => {
      expect(types(events)).toEqual(['ApprovalResubmitted', 'ApprovalStepStarted']);
      expect(events[1].data).toMatchObject({ step: 'design_review', attempt: 2, dueAt: '2026-12-05T16:00:00.000Z' });
    });
    const h3 = history(request('custom-order'), approve('sales_review'), ret, { type: 'Resubmit', data: { actor: sales, now: T2 } });
    spec.given(h3).when(approve('design_review', designer)).thenEvents((events) => expect(types(events)).toEqual(['ApprovalStepApproved', 'ApprovalStepStarted']));
  });

  it('resubmitting a request that was not returned is refused', () => {
    spec.given(history(request('custom-order'))).when({ type: 'Resubmit', data: { actor: sales, now: T1 } }).thenThrows({ code: 'APPROVAL_NOT_RETURNED' });
  });

  it('quorum all: every named approver must approve; each vote is recorded, a repeated vote refused', () => {
    const now = '2026-12-10T08:00:00.000Z';
    const h = history(request('design-board', 1, now));
    const d1 = { id: 'u-d1', role: 'designer' };
    const d2 = { id: 'u-d2', role: 'designer' };
    spec.given(h).when(approve('board', d1)).then([{ type: 'ApprovalVoteRecorded', data: { ...ids, step: 'board', by: 'u-d1', role: 'designer', remaining: ['user:u-d2'], votedAt: T1 } }]);
    const h2 = [...h, ...history(request('design-board', 1, now), approve('board', d1)).slice(h.length)];
    spec.given(h2).when(approve('board', d1)).thenThrows({ code: 'APPROVAL_ALREADY_VOTED' });
    spec.given(h2).when(approve('board', d2)).thenEvents((events) => expect(types(events)).toEqual(['ApprovalStepApproved', 'ApprovalGranted']));
  });

  it('quorum any: one of the named approvers is enough', () => {
    spec.given(history(request('any-designer'))).when(approve('pick', { id: 'u-d2', role: 'designer' })).thenEvents((events) => expect(types(events)).toEqual(['ApprovalStepApproved', 'ApprovalGranted']));
  });

  it('delegated to a named person: only the delegate decides that slot', () => {
    const h = history(request('custom-order'));
    const delegate: ApprovalCommand = { type: 'Delegate', data: { step: 'sales_review', actor: sales, to: 'u-sales-2', reason: '休假', now: T1 } };
    spec.given(h).when(delegate).then([{ type: 'ApprovalStepDelegated', data: { ...ids, step: 'sales_review', from: 'role:sales', to: 'user:u-sales-2', by: 'u-sales', reason: '休假', delegatedAt: T1 } }]);
    const h2 = history(request('custom-order'), delegate);
    spec.given(h2).when(approve('sales_review', sales)).thenThrows({ code: 'APPROVAL_NOT_AN_APPROVER' });
    spec.given(h2).when(approve('sales_review', { id: 'u-sales-2', role: 'finance' })).thenEvents((events) => expect(events[0]).toMatchObject({ type: 'ApprovalStepApproved', data: { by: 'u-sales-2' } }));
  });

  it('delegated by an out-of-office rule when the step starts', () => {
    const now = '2026-12-02T08:00:00.000Z';
    spec.given([]).when(request('design-board', 1, now)).thenEvents((events) => {
      expect(events[2]).toEqual({ type: 'ApprovalStepDelegated', data: { ...ids, step: 'board', from: 'user:u-d2', to: 'user:u-d3', by: 'out-of-office', reason: 'u-d2 is out of office', delegatedAt: now } });
    });
  });

  it('reminded once, then escalated once; the escalation target may approve; stale timers decide nothing', () => {
    const h = history(request('custom-order'), approve('sales_review'), approve('design_review', designer), approve('cost_review', cost));
    const remind: ApprovalCommand = { type: 'Remind', data: { step: 'gm_approval', attempt: 1, now: '2026-12-04T15:00:00.000Z' } };
    spec.given(h).when(remind).then([
      { type: 'ApprovalStepReminded', data: { ...ids, step: 'gm_approval', attempt: 1, principals: ['role:general_manager'], remindedAt: '2026-12-04T15:00:00.000Z', dueAt: '2026-12-04T17:00:00.000Z' } },
    ]);
    const h2 = history(request('custom-order'), approve('sales_review'), approve('design_review', designer), approve('cost_review', cost), remind);
    spec.given(h2).when(remind).then([]);
    const escalate: ApprovalCommand = { type: 'Escalate', data: { step: 'gm_approval', attempt: 1, now: '2026-12-04T17:00:00.000Z' } };
    spec.given(h2).when(escalate).then([{ type: 'ApprovalStepEscalated', data: { ...ids, step: 'gm_approval', attempt: 1, to: 'user:u-gm-deputy', escalatedAt: '2026-12-04T17:00:00.000Z', expireAt: '2026-12-05T01:00:00.000Z' } }]);
    const h3 = [...h2, ...approvalDecider.decide(escalate, spec.given(h2).state)];
    spec.given(h3).when(escalate).then([]);
    spec.given(h3).when({ type: 'Remind', data: { step: 'sales_review', attempt: 1, now: T1 } }).then([]);
    spec.given(h3).when(approve('gm_approval', { id: 'u-gm-deputy', role: 'cost_accountant' })).thenEvents((events) => expect(types(events)).toEqual(['ApprovalStepApproved', 'ApprovalGranted']));
  });

  it('expired: an escalated step still undecided at its second deadline rejects the request', () => {
    const h = history(request('custom-order'), { type: 'Escalate', data: { step: 'sales_review', attempt: 1, now: T1 } });
    spec.given(h).when({ type: 'Expire', data: { step: 'sales_review', attempt: 1, now: '2026-12-04T17:00:00.000Z' } }).thenEvents((events) => {
      expect(types(events)).toEqual(['ApprovalExpired', 'ApprovalRejected']);
      expect(events[1].data).toMatchObject({ step: 'sales_review', by: 'approval-timer' });
    });
    spec.given(history(request('custom-order'))).when({ type: 'Expire', data: { step: 'sales_review', attempt: 1, now: T1 } }).then([]);
  });

  it('withdrawn when the order is cancelled; a withdrawal after the decision changes nothing', () => {
    spec.given(history(request('custom-order'))).when({ type: 'Withdraw', data: { reason: 'order cancelled', now: T1 } }).then([{ type: 'ApprovalWithdrawn', data: { ...ids, reason: 'order cancelled', withdrawnAt: T1 } }]);
    const granted = history(request('any-designer'), approve('pick', { id: 'u-d1', role: 'designer' }));
    spec.given(granted).when({ type: 'Withdraw', data: { reason: 'order cancelled', now: T1 } }).then([]);
    const withdrawn = history(request('custom-order'), { type: 'Withdraw', data: { reason: 'order cancelled', now: T1 } });
    spec.given(withdrawn).when(approve('sales_review')).thenThrows({ code: 'APPROVAL_NOT_PENDING', details: { status: 'withdrawn' } });
  });

  it('state shows each step with its state, actor and time', () => {
    const s = spec.given(history(request('custom-order'), approve('sales_review'))).state as OpenApproval;
    expect(s.steps.map((st) => [st.step, st.status, st.decidedBy ?? null])).toEqual([
      ['sales_review', 'approved', 'u-sales'],
      ['design_review', 'active', null],
      ['cost_review', 'waiting', null],
      ['gm_approval', 'waiting', null],
    ]);
  });
});
