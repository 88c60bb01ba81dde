import type { TrackingApprovalChainView, TrackingApprovalStepView } from '@flowline/contracts';
import type { ApprovalEvent } from './tracked-event';

/**
 * The approval chains of one order (custom-order approvals, change requests), folded from the
 * approval events on its timeline: each step's state, who decided it and when, its due time,
 * reminders, escalation and delegation. Pure; the order of `events` is the timeline's.
 */
export function approvalChains(events: readonly { type: string; occurredAt: string; data: unknown }[]): TrackingApprovalChainView[] {
  const chains = new Map<string, TrackingApprovalChainView>();
  const stepOf = (c: TrackingApprovalChainView, step: string): TrackingApprovalStepView | undefined => c.steps.find((s) => s.step === step);
  for (const raw of events) {
    const e = raw as unknown as ApprovalEvent;
    const data = e.data as { approvalId?: string };
    if (!data || typeof data.approvalId !== 'string') continue;
    if (e.type === 'ApprovalRequested') {
      const d = e.data;
      chains.set(d.approvalId, {
        approvalId: d.approvalId,
        chain: d.chain,
        kind: d.kind ?? 'order',
        chainVersion: d.chainVersion ?? null,
        status: 'pending',
        requestedAt: d.requestedAt ?? e.occurredAt,
        decidedAt: null,
        steps: (d.plan ?? d.steps.map((step) => ({ step }))).map((p) => {
          const plan = p as { step: string; role?: string; approvers?: string[]; quorum?: 'any' | 'all' };
          return {
            step: plan.step,
            role: plan.role ?? null,
            approvers: plan.approvers ?? [],
            quorum: plan.quorum ?? 'any',
            state: 'waiting',
            actor: null,
            at: null,
            comment: null,
            startedAt: null,
            dueAt: null,
            remindedAt: null,
            escalatedAt: null,
            escalatedTo: null,
            delegatedTo: [],
          };
        }),
      });
      continue;
    }
    const c = chains.get(data.approvalId);
    if (!c) continue;
    switch (e.type) {
      case 'ApprovalStepStarted': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { state: 'active', actor: null, at: null, comment: null, startedAt: e.data.startedAt, dueAt: e.data.dueAt, remindedAt: null, escalatedAt: null, escalatedTo: null });
        c.status = 'pending';
        break;
      }
      case 'ApprovalStepSkipped': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { state: 'skipped', at: e.data.skippedAt, comment: e.data.reason });
        break;
      }
      case 'ApprovalStepDelegated': {
        const s = stepOf(c, e.data.step);
        if (s) s.delegatedTo = [...s.delegatedTo, e.data.to];
        break;
      }
      case 'ApprovalStepApproved': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { state: 'approved', actor: { id: e.data.by, role: e.data.role }, at: e.data.approvedAt ?? e.occurredAt, comment: e.data.comment ?? null });
        break;
      }
      case 'ApprovalReturned': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { state: 'returned', actor: { id: e.data.by, role: e.data.role }, at: e.data.returnedAt, comment: e.data.comment });
        c.status = 'returned';
        break;
      }
      case 'ApprovalRejected': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { state: s.state === 'expired' ? 'expired' : 'rejected', actor: { id: e.data.by, role: e.data.role ?? null }, at: e.data.rejectedAt ?? e.occurredAt, comment: e.data.reason });
        c.status = 'rejected';
        c.decidedAt = e.data.rejectedAt ?? e.occurredAt;
        break;
      }
      case 'ApprovalStepReminded': {
        const s = stepOf(c, e.data.step);
        if (s) s.remindedAt = e.data.remindedAt;
        break;
      }
      case 'ApprovalStepEscalated': {
        const s = stepOf(c, e.data.step);
        if (s) Object.assign(s, { escalatedAt: e.data.escalatedAt, escalatedTo: e.data.to });
        break;
      }
      case 'ApprovalExpired': {
        const s = stepOf(c, e.data.step);
        if (s) s.state = 'expired';
        break;
      }
      case 'ApprovalGranted':
        c.status = 'granted';
        c.decidedAt = e.data.grantedAt ?? e.occurredAt;
        break;
      case 'ApprovalWithdrawn':
        c.status = 'withdrawn';
        c.decidedAt = e.data.withdrawnAt ?? e.occurredAt;
        for (const s of c.steps) if (s.state === 'active') s.state = 'waiting';
        break;
      default:
        break;
    }
  }
  return [...chains.values()];
}
