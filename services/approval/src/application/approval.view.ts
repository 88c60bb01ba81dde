import type { ApprovalState } from '../domain/approval.decider';

export interface ApprovalStepView {
  step: string;
  role: string | null;
  approvers: string[];
  quorum: 'any' | 'all';
  status: string;
  attempt: number;
  /** Who decides each slot now (delegates included) and who already approved. */
  slots: { original: string; principal: string; approvedBy: string | null; approvedAt: string | null }[];
  startedAt: string | null;
  dueAt: string | null;
  remindedAt: string | null;
  escalatedAt: string | null;
  escalatedTo: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string | null;
}

export interface ApprovalView {
  approvalId: string;
  orderId: string;
  kind: 'order' | 'change';
  changeRequestId: string | null;
  chain: string;
  chainVersion: string;
  status: string;
  currentStep: string | null;
  requestedAt: string;
  /** Who raised it (a change request's requester); null for an order's own approval. */
  requestedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  grandTotal: number | null;
  currency: string | null;
  steps: ApprovalStepView[];
  /** kind `change`: the diff, and where the change is (approval, reserving stock, approved for the order, refused). */
  change: { status: string; diff: unknown; reservationId: string | null; refusal: { code: string; reason: string } | null } | null;
  revision: number;
}

export function approvalView(s: ApprovalState, revision: number): ApprovalView {
  if (s.status === 'none') throw new Error('no approval');
  return {
    approvalId: s.approvalId,
    orderId: s.orderId,
    kind: s.kind,
    changeRequestId: s.changeRequestId ?? null,
    chain: s.chain,
    chainVersion: s.chainVersion,
    status: s.status,
    currentStep: s.current === null ? null : s.steps[s.current].step,
    requestedAt: s.requestedAt,
    requestedBy: s.requestedBy ?? null,
    decidedAt: s.decidedAt ?? null,
    reason: s.reason ?? null,
    grandTotal: s.grandTotal ?? null,
    currency: s.currency ?? null,
    steps: s.steps.map((st) => ({
      step: st.step,
      role: st.role ?? null,
      approvers: st.approvers ?? [],
      quorum: st.quorum,
      status: st.status,
      attempt: st.attempt,
      slots: st.slots.map((x) => ({ original: x.original, principal: x.principal, approvedBy: x.vote?.by ?? null, approvedAt: x.vote?.at ?? null })),
      startedAt: st.startedAt ?? null,
      dueAt: st.dueAt ?? null,
      remindedAt: st.remindedAt ?? null,
      escalatedAt: st.escalatedAt ?? null,
      escalatedTo: st.escalatedTo ?? null,
      decidedBy: st.decidedBy ?? null,
      decidedAt: st.decidedAt ?? null,
      comment: st.comment ?? null,
    })),
    change: s.change ? { status: s.change.status, diff: s.change.diff, reservationId: s.change.reservationId ?? null, refusal: s.change.refusal ?? null } : null,
    revision,
  };
}
