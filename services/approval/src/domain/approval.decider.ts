import { assertNever, type Decider } from '@flowline/domain';
import { ApprovalErrorCode, ApprovalErrors } from './approval.errors';
import { planChangeRelease, type ChangeDiff, type ChangeHolding, type ChangePrivate } from './change-request';
import { outOfOfficeDelegate, skipHolds, type Chain, type ChainFact, type ChainStep, type OutOfOffice, type Quorum } from './chains/chain-set';

/**
 * The ApprovalRequest aggregate (stream `approval-<approvalId>`): one chain of human decisions for
 * an order (kind `order`) or an order change request (kind `change`). Pure: time, ids and the chain
 * (already chosen and parsed) come in on the command.
 *
 * A step is decided by *slots*: one per named approver, or one for the role. `quorum: any` needs one
 * slot's approval, `all` every slot's. A slot delegated to a person is decided by that person only;
 * a step escalated to a role or person may also be approved by the escalation target.
 */

export interface Actor {
  id: string;
  role: string;
}

/** `user:<id>` or `role:<role>`: who may decide a slot. */
export type Principal = string;
export const userPrincipal = (id: string): Principal => `user:${id}`;
export const rolePrincipal = (role: string): Principal => `role:${role}`;
function actorMatches(actor: Actor, p: Principal): boolean {
  return p === userPrincipal(actor.id) || p === rolePrincipal(actor.role);
}

export type ApprovalKind = 'order' | 'change';

/** One step of the chain as planned when the approval was requested (the chain version is frozen then). */
export interface StepPlan {
  step: string;
  role?: string;
  approvers?: string[];
  quorum: Quorum;
  slaMs: number;
  remindAfterMs: number;
  escalateTo?: { role?: string; approver?: string };
  /** The skip condition held for this request's facts. */
  skip: boolean;
}

export interface Attachment {
  name: string;
  url: string;
}

// ---------------------------------------------------------------------------------------------
// Events (stored; the relay publishes them on approval.events.v1 as they are)
// ---------------------------------------------------------------------------------------------

interface Ids {
  approvalId: string;
  orderId: string;
}
export type ApprovalEvent =
  | {
      type: 'ApprovalRequested';
      data: Ids & {
        chain: string;
        steps: string[];
        kind: ApprovalKind;
        changeRequestId?: string;
        chainVersion: string;
        chainHash: string;
        plan: StepPlan[];
        grandTotal?: number;
        currency?: string;
        priceDifference?: number;
        ruleId?: string;
        ruleSetVersion?: string;
        requestedBy?: string;
        outOfOffice?: OutOfOffice[];
        /** kind `change`: the diff from the order's current state, stored with the request. */
        change?: ChangeDiff;
        /** kind `change`: the clear new address / invoice; stays in approval's store (the relay drops it), sent only to order-intake. */
        changePrivate?: ChangePrivate;
        channel?: string;
        /** kind `change`: the order's shop, for the stock the change reserves (stays in approval's store; the relay drops it). */
        shopId?: string;
        requestedAt: string;
      };
    }
  | { type: 'ApprovalFreezeOverridden'; data: Ids & { shipmentIds: string[]; by: string; role: string; reason: string; overriddenAt: string } }
  /** `shopId`: the order's shop, kept on the reservation so a shop-limited user sees it (absent on changes raised before approval kept it). */
  | { type: 'ChangeStockRequested'; data: Ids & { reservationId: string; channel: string; shopId?: string; lines: { lineId: string; sku: string; quantity: number }[]; requestedAt: string } }
  | {
      type: 'ChangeApproved';
      data: Ids & {
        changeRequestId: string;
        diff: ChangeDiff;
        reservationId?: string;
        allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[];
        freezeOverride?: { shipmentIds: string[]; by: string; reason: string };
        /** `command`: order-intake applies it from ChangeApplyRequested (personal data inside), not from this event. */
        appliedBy?: 'command';
        approvedAt: string;
      };
    }
  /**
   * With a ChangeApproved whose diff holds personal data: the whole change with the clear values,
   * relayed to order-intake only, as ApplyOrderChange on its private orders.commands.v1.
   */
  | {
      type: 'ChangeApplyRequested';
      data: Ids & {
        changeRequestId: string;
        diff: ChangeDiff;
        reservationId?: string;
        allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[];
        freezeOverride?: { shipmentIds: string[]; by: string; reason: string };
        requestedAt: string;
      } & ChangePrivate;
    }
  | { type: 'ChangeRefused'; data: Ids & { changeRequestId: string; code: string; reason: string; missing?: { sku: string; requested: number; available: number }[]; refusedAt: string } }
  | { type: 'ChangeStockReleaseRequested'; data: Ids & { reservationId: string; reason: string; requestedAt: string } }
  /** The order applied the change (OrderChanged): the units of removed lines / lowered quantities go back (inventory's ReleaseStockLines on the order's reservation). */
  | {
      type: 'ChangeStockLinesReleaseRequested';
      /** `reservationId`: an earlier change's reservation (`chg-<approvalId>`) holding some of the units, line ids as inventory holds them (`L1+`); absent: the order's own reservation. */
      data: Ids & { lines: { lineId: string; sku: string; quantity: number }[]; reservationId?: string; reason: string; requestedAt: string };
    }
  | { type: 'ApprovalStepSkipped'; data: Ids & { step: string; reason: string; skippedAt: string } }
  | {
      type: 'ApprovalStepStarted';
      data: Ids & { step: string; role?: string; approvers?: string[]; quorum: Quorum; attempt: number; startedAt: string; remindAt: string; dueAt: string };
    }
  | { type: 'ApprovalStepDelegated'; data: Ids & { step: string; from: string; to: string; by: string; reason: string; delegatedAt: string } }
  | { type: 'ApprovalVoteRecorded'; data: Ids & { step: string; by: string; role: string; comment?: string; remaining: string[]; votedAt: string } }
  | {
      type: 'ApprovalStepApproved';
      data: Ids & { step: string; role: string; by: string; comment?: string; attachments?: Attachment[]; chainVersion: string; approvedAt: string };
    }
  | { type: 'ApprovalGranted'; data: Ids & { chain: string; kind: ApprovalKind; changeRequestId?: string; chainVersion: string; grantedAt: string } }
  | {
      type: 'ApprovalRejected';
      data: Ids & { chain: string; step: string; by: string; role?: string; reason: string; kind: ApprovalKind; changeRequestId?: string; chainVersion: string; rejectedAt: string };
    }
  | {
      type: 'ApprovalReturned';
      data: Ids & { chain: string; step: string; by: string; role: string; comment: string; attachments?: Attachment[]; kind: ApprovalKind; chainVersion: string; returnedAt: string };
    }
  | { type: 'ApprovalResubmitted'; data: Ids & { step: string; by: string; comment?: string; resubmittedAt: string } }
  | { type: 'ApprovalStepReminded'; data: Ids & { step: string; attempt: number; principals: string[]; remindedAt: string; dueAt: string } }
  | { type: 'ApprovalStepEscalated'; data: Ids & { step: string; attempt: number; to: Principal; escalatedAt: string; expireAt: string } }
  | { type: 'ApprovalExpired'; data: Ids & { step: string; attempt: number; expiredAt: string } }
  | { type: 'ApprovalWithdrawn'; data: Ids & { reason: string; withdrawnAt: string } };

export type ApprovalEventType = ApprovalEvent['type'];

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

export type ApprovalCommand =
  | {
      type: 'RequestApproval';
      data: {
        approvalId: string;
        orderId: string;
        kind: ApprovalKind;
        changeRequestId?: string;
        chain: Chain;
        chainVersion: string;
        chainHash: string;
        facts: Partial<Record<ChainFact, number>>;
        currency?: string;
        ruleId?: string;
        ruleSetVersion?: string;
        requestedBy?: string;
        outOfOffice: OutOfOffice[];
        change?: ChangeDiff;
        changePrivate?: ChangePrivate;
        channel?: string;
        shopId?: string;
        freezeOverride?: { shipmentIds: string[]; by: string; role: string; reason: string };
        now: string;
      };
    }
  | {
      type: 'RecordChangeStock';
      data: { reserved: true; allocations: { lineId: string; sku: string; warehouseId: string; quantity: number }[]; now: string } | { reserved: false; missing: { sku: string; requested: number; available: number }[]; now: string };
    }
  | { type: 'RecordChangeRefusedByOrder'; data: { reason: string; now: string } }
  /**
   * order-intake applied the change (OrderChanged). `holdings`: the units earlier applied changes
   * added to the order, in their own reservations, oldest first (approval's order snapshot).
   */
  | { type: 'RecordChangeApplied'; data: { now: string; holdings?: ChangeHolding[] } }
  | { type: 'Approve'; data: { step: string; actor: Actor; comment?: string; attachments?: Attachment[]; now: string } }
  | { type: 'Reject'; data: { step: string; actor: Actor; reason: string; now: string } }
  | { type: 'ReturnForChanges'; data: { step: string; actor: Actor; comment: string; attachments?: Attachment[]; now: string } }
  | { type: 'Resubmit'; data: { actor: Actor; comment?: string; now: string } }
  | { type: 'Delegate'; data: { step: string; actor: Actor; to: string; reason?: string; now: string } }
  | { type: 'Remind'; data: { step: string; attempt: number; now: string } }
  | { type: 'Escalate'; data: { step: string; attempt: number; now: string } }
  | { type: 'Expire'; data: { step: string; attempt: number; now: string } }
  | { type: 'Withdraw'; data: { reason: string; now: string } };

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

export interface Slot {
  /** Who the chain named (`user:` or `role:`). */
  original: Principal;
  /** Who decides it now (the delegate after a delegation). */
  principal: Principal;
  vote?: { by: string; at: string };
}

export type StepStatus = 'waiting' | 'active' | 'approved' | 'rejected' | 'returned' | 'skipped' | 'expired';

export interface StepState extends StepPlan {
  status: StepStatus;
  slots: Slot[];
  attempt: number;
  startedAt?: string;
  dueAt?: string;
  remindedAt?: string;
  escalatedAt?: string;
  escalatedTo?: Principal;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
}

export type ApprovalStatus = 'pending' | 'returned' | 'granted' | 'rejected' | 'withdrawn';

export type ApprovalState =
  | { status: 'none' }
  | {
      status: ApprovalStatus;
      approvalId: string;
      orderId: string;
      kind: ApprovalKind;
      changeRequestId?: string;
      chain: string;
      chainVersion: string;
      chainHash: string;
      requestedAt: string;
      requestedBy?: string;
      grandTotal?: number;
      currency?: string;
      ruleId?: string;
      ruleSetVersion?: string;
      outOfOffice: OutOfOffice[];
      steps: StepState[];
      /** Index of the active (or returned) step; null once decided. */
      current: number | null;
      decidedAt?: string;
      reason?: string;
      change?: {
        diff: ChangeDiff;
        channel: string;
        shopId?: string;
        /** approval: in the chain; reserving: granted, stock for added lines asked; approved: ready for the order; refused. */
        status: 'approval' | 'reserving' | 'approved' | 'refused';
        reservationId?: string;
        refusal?: { code: string; reason: string };
        freezeOverride?: { shipmentIds: string[]; by: string; reason: string };
        /** The order applied it and the units it gave up were sent back to inventory. */
        linesReleased?: boolean;
        /** The clear new address / invoice (never in a view or a published event). */
        private?: ChangePrivate;
      };
    };
export type OpenApproval = Exclude<ApprovalState, { status: 'none' }>;

/** Still waiting for decisions (pending, or returned for changes and waiting for a resubmission). */
export function isOpen(s: ApprovalState): boolean {
  return s.status === 'pending' || s.status === 'returned';
}

export const streamIdOf = (approvalId: string) => `approval-${approvalId}`;

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

function planOf(step: ChainStep, facts: Partial<Record<ChainFact, number>>): StepPlan {
  return {
    step: step.id,
    ...(step.role ? { role: step.role } : {}),
    ...(step.approvers ? { approvers: [...step.approvers] } : {}),
    quorum: step.quorum,
    slaMs: step.slaMs,
    remindAfterMs: step.remindAfterMs,
    ...(step.escalateTo ? { escalateTo: { ...step.escalateTo } } : {}),
    skip: skipHolds(step.skipWhen, facts),
  };
}

function principalsOf(plan: StepPlan): Principal[] {
  return plan.approvers ? plan.approvers.map(userPrincipal) : plan.role ? [rolePrincipal(plan.role)] : [];
}

const plusMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Events that start the step at `from` or, when it and the next are skipped, the first one not skipped; or grant. */
function advance(s: OpenApproval, from: number, now: string): ApprovalEvent[] {
  const ids = { approvalId: s.approvalId, orderId: s.orderId };
  const events: ApprovalEvent[] = [];
  for (let i = from; i < s.steps.length; i++) {
    const step = s.steps[i];
    if (step.skip) {
      events.push({ type: 'ApprovalStepSkipped', data: { ...ids, step: step.step, reason: 'skip condition of the chain held', skippedAt: now } });
      continue;
    }
    events.push(...startStep(s, step, now));
    return events;
  }
  events.push({
    type: 'ApprovalGranted',
    data: { ...ids, chain: s.chain, kind: s.kind, ...(s.changeRequestId ? { changeRequestId: s.changeRequestId } : {}), chainVersion: s.chainVersion, grantedAt: now },
  });
  // A granted change: stock for added lines is reserved first (all-or-nothing), else it is approved at once.
  if (s.change) {
    const added = s.change.diff.lines.added.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity }));
    const raised = s.change.diff.lines.changed.filter((c) => c.after > c.before).map((c) => ({ lineId: `${c.lineId}+`, sku: c.sku, quantity: c.after - c.before }));
    const lines = [...added, ...raised];
    if (lines.length > 0) {
      const shop = s.change.shopId ? { shopId: s.change.shopId } : {};
      events.push({ type: 'ChangeStockRequested', data: { ...ids, reservationId: changeReservationId(s.approvalId), channel: s.change.channel, ...shop, lines, requestedAt: now } });
    }
    else events.push(...changeApproved(s, {}, now));
  }
  return events;
}

/**
 * ChangeApproved, and when the diff holds personal data (address, invoice, shipping method)
 * ChangeApplyRequested with the clear values: order-intake applies that one instead.
 */
function changeApproved(s: OpenApproval, stock: { reservationId?: string; allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[] }, now: string): ApprovalEvent[] {
  if (!s.change) return [];
  const ids = { approvalId: s.approvalId, orderId: s.orderId, changeRequestId: s.changeRequestId ?? s.approvalId };
  const p = s.change.private ?? {};
  const byCommand = !!(p.shippingAddress || p.invoice || s.change.diff.shippingMethod);
  const common = { ...ids, diff: s.change.diff, ...stock, ...overrideOf(s) };
  const approved: ApprovalEvent = { type: 'ChangeApproved', data: { ...common, ...(byCommand ? { appliedBy: 'command' as const } : {}), approvedAt: now } };
  if (!byCommand) return [approved];
  return [
    approved,
    {
      type: 'ChangeApplyRequested',
      data: {
        ...common,
        ...(p.shippingAddress ? { shippingAddress: p.shippingAddress } : {}),
        ...(s.change.diff.shippingMethod ? { shippingMethod: s.change.diff.shippingMethod.after } : {}),
        ...(p.invoice ? { invoice: p.invoice } : {}),
        requestedAt: now,
      },
    },
  ];
}

const overrideOf = (s: OpenApproval) => (s.change?.freezeOverride ? { freezeOverride: s.change.freezeOverride } : {});

/** The inventory reservation holding the units a change adds (its own reservation, so the order's stays as it is). */
export const changeReservationId = (approvalId: string) => `chg-${approvalId}`;

function startStep(s: OpenApproval, step: StepState, now: string): ApprovalEvent[] {
  const ids = { approvalId: s.approvalId, orderId: s.orderId };
  const events: ApprovalEvent[] = [
    {
      type: 'ApprovalStepStarted',
      data: {
        ...ids,
        step: step.step,
        ...(step.role ? { role: step.role } : {}),
        ...(step.approvers ? { approvers: [...step.approvers] } : {}),
        quorum: step.quorum,
        attempt: step.attempt + 1,
        startedAt: now,
        remindAt: plusMs(now, step.remindAfterMs),
        dueAt: plusMs(now, step.slaMs),
      },
    },
  ];
  // Out-of-office rules move a named approver's slot to their delegate when the step starts.
  for (const user of step.approvers ?? []) {
    const to = outOfOfficeDelegate(s.outOfOffice, user, now);
    if (to) events.push({ type: 'ApprovalStepDelegated', data: { ...ids, step: step.step, from: userPrincipal(user), to: userPrincipal(to), by: 'out-of-office', reason: `${user} is out of office`, delegatedAt: now } });
  }
  return events;
}

function requireOpen(s: ApprovalState, command: string): OpenApproval {
  if (s.status === 'none') throw ApprovalErrors.notFound('(no request)');
  if (!isOpen(s)) throw ApprovalErrors.conflict(ApprovalErrorCode.NotPending, `${command}: the approval is ${s.status}`, { status: s.status });
  return s;
}

function requireCurrent(s: ApprovalState, stepId: string, command: string): { s: OpenApproval; step: StepState } {
  const open = requireOpen(s, command);
  if (open.status !== 'pending') throw ApprovalErrors.conflict(ApprovalErrorCode.NotPending, `${command}: the approval was returned for changes and waits for a resubmission`, { status: open.status });
  const step = open.current === null ? undefined : open.steps[open.current];
  if (!step || step.step !== stepId)
    throw ApprovalErrors.conflict(ApprovalErrorCode.NotCurrentStep, `${command}: step ${stepId} is not the current step (${step?.step ?? 'none'})`, { step: stepId, current: step?.step ?? null });
  return { s: open, step };
}

/** The slots the actor may decide, plus whether the actor is the escalation target. */
function authority(step: StepState, actor: Actor): { slots: number[]; escalation: boolean } {
  const slots = step.slots.flatMap((slot, i) => (actorMatches(actor, slot.principal) ? [i] : []));
  const escalation = step.escalatedTo !== undefined && actorMatches(actor, step.escalatedTo);
  return { slots, escalation };
}

function requireApprover(step: StepState, actor: Actor, command: string): { slots: number[]; escalation: boolean } {
  const a = authority(step, actor);
  if (a.slots.length === 0 && !a.escalation) {
    throw ApprovalErrors.forbidden(ApprovalErrorCode.NotAnApprover, `${command}: ${actor.id} (${actor.role}) may not decide step ${step.step}`, {
      step: step.step,
      actor: actor.id,
      role: actor.role,
      allowed: [...step.slots.map((x) => x.principal), ...(step.escalatedTo ? [step.escalatedTo] : [])],
    });
  }
  return a;
}

function requireText(field: string, value: string | undefined, max: number): string {
  const v = (value ?? '').trim();
  if (v === '') throw ApprovalErrors.invalid(field, 'required');
  if (v.length > max) throw ApprovalErrors.invalid(field, `at most ${max} characters`);
  return v;
}

function decide(c: ApprovalCommand, s: ApprovalState): ApprovalEvent[] {
  switch (c.type) {
    case 'RequestApproval': {
      if (s.status !== 'none') throw ApprovalErrors.conflict(ApprovalErrorCode.AlreadyRequested, `approval ${s.approvalId} already exists`, { approvalId: s.approvalId });
      const d = c.data;
      const plan = d.chain.steps.map((st) => planOf(st, d.facts));
      const requested: ApprovalEvent = {
        type: 'ApprovalRequested',
        data: {
          approvalId: d.approvalId,
          orderId: d.orderId,
          chain: d.chain.id,
          steps: plan.map((p) => p.step),
          kind: d.kind,
          ...(d.changeRequestId ? { changeRequestId: d.changeRequestId } : {}),
          chainVersion: d.chainVersion,
          chainHash: d.chainHash,
          plan,
          ...(d.facts.grandTotal !== undefined ? { grandTotal: d.facts.grandTotal } : {}),
          ...(d.currency ? { currency: d.currency } : {}),
          ...(d.facts.priceDifference !== undefined ? { priceDifference: d.facts.priceDifference } : {}),
          ...(d.ruleId ? { ruleId: d.ruleId } : {}),
          ...(d.ruleSetVersion ? { ruleSetVersion: d.ruleSetVersion } : {}),
          ...(d.requestedBy ? { requestedBy: d.requestedBy } : {}),
          ...(d.outOfOffice.length ? { outOfOffice: d.outOfOffice } : {}),
          ...(d.change ? { change: d.change, channel: d.channel ?? 'unknown', ...(d.shopId ? { shopId: d.shopId } : {}) } : {}),
          ...(d.change && d.changePrivate && (d.changePrivate.shippingAddress || d.changePrivate.invoice) ? { changePrivate: d.changePrivate } : {}),
          requestedAt: d.now,
        },
      };
      const override: ApprovalEvent[] = d.freezeOverride
        ? [{ type: 'ApprovalFreezeOverridden', data: { approvalId: d.approvalId, orderId: d.orderId, ...d.freezeOverride, overriddenAt: d.now } }]
        : [];
      const after = evolve(s, requested) as OpenApproval;
      return [requested, ...override, ...advance(after, 0, d.now)];
    }
    case 'Approve': {
      const { s: open, step } = requireCurrent(s, c.data.step, 'Approve');
      const { actor, now } = c.data;
      const a = requireApprover(step, actor, 'Approve');
      const ids = { approvalId: open.approvalId, orderId: open.orderId };
      const undecided = a.slots.filter((i) => !step.slots[i].vote);
      if (!a.escalation && undecided.length === 0) {
        throw ApprovalErrors.conflict(ApprovalErrorCode.AlreadyVoted, `Approve: ${actor.id} already approved step ${step.step}`, { step: step.step, actor: actor.id });
      }
      const remaining = step.slots.filter((slot, i) => !slot.vote && !undecided.includes(i)).map((slot) => slot.principal);
      const complete = a.escalation || step.quorum === 'any' || remaining.length === 0;
      if (!complete) {
        return [
          {
            type: 'ApprovalVoteRecorded',
            data: { ...ids, step: step.step, by: actor.id, role: actor.role, ...(c.data.comment ? { comment: c.data.comment } : {}), remaining, votedAt: now },
          },
        ];
      }
      const approved: ApprovalEvent = {
        type: 'ApprovalStepApproved',
        data: {
          ...ids,
          step: step.step,
          role: actor.role,
          by: actor.id,
          ...(c.data.comment ? { comment: c.data.comment } : {}),
          ...(c.data.attachments?.length ? { attachments: c.data.attachments } : {}),
          chainVersion: open.chainVersion,
          approvedAt: now,
        },
      };
      const after = evolve(open, approved) as OpenApproval;
      return [approved, ...advance(after, (open.current ?? 0) + 1, now)];
    }
    case 'Reject': {
      const { s: open, step } = requireCurrent(s, c.data.step, 'Reject');
      requireApprover(step, c.data.actor, 'Reject');
      const reason = requireText('reason', c.data.reason, 500);
      return [
        {
          type: 'ApprovalRejected',
          data: {
            approvalId: open.approvalId,
            orderId: open.orderId,
            chain: open.chain,
            step: step.step,
            by: c.data.actor.id,
            role: c.data.actor.role,
            reason,
            kind: open.kind,
            ...(open.changeRequestId ? { changeRequestId: open.changeRequestId } : {}),
            chainVersion: open.chainVersion,
            rejectedAt: c.data.now,
          },
        },
      ];
    }
    case 'ReturnForChanges': {
      const { s: open, step } = requireCurrent(s, c.data.step, 'ReturnForChanges');
      requireApprover(step, c.data.actor, 'ReturnForChanges');
      const comment = requireText('comment', c.data.comment, 1000);
      return [
        {
          type: 'ApprovalReturned',
          data: {
            approvalId: open.approvalId,
            orderId: open.orderId,
            chain: open.chain,
            step: step.step,
            by: c.data.actor.id,
            role: c.data.actor.role,
            comment,
            ...(c.data.attachments?.length ? { attachments: c.data.attachments } : {}),
            kind: open.kind,
            chainVersion: open.chainVersion,
            returnedAt: c.data.now,
          },
        },
      ];
    }
    case 'Resubmit': {
      const open = requireOpen(s, 'Resubmit');
      if (open.status !== 'returned' || open.current === null) throw ApprovalErrors.conflict(ApprovalErrorCode.NotReturned, 'Resubmit: the approval was not returned for changes', { status: open.status });
      const step = open.steps[open.current];
      const resubmitted: ApprovalEvent = {
        type: 'ApprovalResubmitted',
        data: { approvalId: open.approvalId, orderId: open.orderId, step: step.step, by: c.data.actor.id, ...(c.data.comment ? { comment: c.data.comment } : {}), resubmittedAt: c.data.now },
      };
      const after = evolve(open, resubmitted) as OpenApproval;
      // The step that returned the request decides again, from a fresh start (new SLA, new votes).
      return [resubmitted, ...startStep(after, after.steps[open.current], c.data.now)];
    }
    case 'Delegate': {
      const { s: open, step } = requireCurrent(s, c.data.step, 'Delegate');
      const a = requireApprover(step, c.data.actor, 'Delegate');
      const to = requireText('to', c.data.to, 100);
      if (to === c.data.actor.id) throw ApprovalErrors.invalid('to', 'cannot delegate to yourself');
      const slot = a.slots.map((i) => step.slots[i]).find((x) => !x.vote);
      if (!slot) throw ApprovalErrors.conflict(ApprovalErrorCode.AlreadyVoted, `Delegate: ${c.data.actor.id} has nothing left to decide on step ${step.step}`, { step: step.step });
      return [
        {
          type: 'ApprovalStepDelegated',
          data: {
            approvalId: open.approvalId,
            orderId: open.orderId,
            step: step.step,
            from: slot.principal,
            to: userPrincipal(to),
            by: c.data.actor.id,
            reason: (c.data.reason ?? '').trim() || 'delegated',
            delegatedAt: c.data.now,
          },
        },
      ];
    }
    case 'Remind':
    case 'Escalate':
    case 'Expire': {
      // Timers are at-least-once and may be late: one for a step that moved on, or already fired, decides nothing.
      if (s.status !== 'pending' || s.current === null) return [];
      const step = s.steps[s.current];
      if (step.step !== c.data.step || step.attempt !== c.data.attempt || step.status !== 'active') return [];
      const ids = { approvalId: s.approvalId, orderId: s.orderId };
      if (c.type === 'Remind') {
        if (step.remindedAt || step.escalatedAt) return [];
        const principals = step.slots.filter((x) => !x.vote).map((x) => x.principal);
        return [{ type: 'ApprovalStepReminded', data: { ...ids, step: step.step, attempt: step.attempt, principals, remindedAt: c.data.now, dueAt: step.dueAt ?? c.data.now } }];
      }
      if (c.type === 'Escalate') {
        if (step.escalatedAt) return [];
        const target = step.escalateTo?.approver ? userPrincipal(step.escalateTo.approver) : step.escalateTo?.role ? rolePrincipal(step.escalateTo.role) : step.slots[0].principal;
        return [{ type: 'ApprovalStepEscalated', data: { ...ids, step: step.step, attempt: step.attempt, to: target, escalatedAt: c.data.now, expireAt: plusMs(c.data.now, step.slaMs) } }];
      }
      if (!step.escalatedAt) return [];
      return [
        { type: 'ApprovalExpired', data: { ...ids, step: step.step, attempt: step.attempt, expiredAt: c.data.now } },
        {
          type: 'ApprovalRejected',
          data: {
            ...ids,
            chain: s.chain,
            step: step.step,
            by: 'approval-timer',
            reason: `no decision on step ${step.step} within its SLA, even after escalation`,
            kind: s.kind,
            ...(s.changeRequestId ? { changeRequestId: s.changeRequestId } : {}),
            chainVersion: s.chainVersion,
            rejectedAt: c.data.now,
          },
        },
      ];
    }
    case 'RecordChangeStock': {
      // Redelivered or late inventory outcomes decide nothing.
      if (s.status !== 'granted' || s.change?.status !== 'reserving') return [];
      const ids = { approvalId: s.approvalId, orderId: s.orderId, changeRequestId: s.changeRequestId ?? s.approvalId };
      if (c.data.reserved) return changeApproved(s, { reservationId: s.change.reservationId ?? changeReservationId(s.approvalId), allocations: c.data.allocations }, c.data.now);
      const missing = c.data.missing;
      return [
        {
          type: 'ChangeRefused',
          data: { ...ids, code: 'CHANGE_NO_STOCK', reason: `not enough stock for ${missing.map((m) => `${m.sku} (needs ${m.requested}, ${m.available} available)`).join(', ')}: the whole change is refused`, missing, refusedAt: c.data.now },
        },
      ];
    }
    case 'RecordChangeRefusedByOrder': {
      if (s.status !== 'granted' || s.change?.status !== 'approved') return [];
      const ids = { approvalId: s.approvalId, orderId: s.orderId };
      const events: ApprovalEvent[] = [{ type: 'ChangeRefused', data: { ...ids, changeRequestId: s.changeRequestId ?? s.approvalId, code: 'CHANGE_REFUSED_BY_ORDER', reason: c.data.reason, refusedAt: c.data.now } }];
      if (s.change.reservationId) events.push({ type: 'ChangeStockReleaseRequested', data: { ...ids, reservationId: s.change.reservationId, reason: 'change refused', requestedAt: c.data.now } });
      return events;
    }
    case 'RecordChangeApplied': {
      // Only once, only for an approved change; nothing to give back when no line shrank.
      if (s.status !== 'granted' || s.change?.status !== 'approved' || s.change.linesReleased) return [];
      const lines = releasedUnits(s.change.diff);
      if (lines.length === 0) return [];
      const ids = { approvalId: s.approvalId, orderId: s.orderId };
      return planChangeRelease(lines, c.data.holdings ?? []).map((p) => ({
        type: 'ChangeStockLinesReleaseRequested' as const,
        data: { ...ids, lines: p.lines, ...(p.reservationId ? { reservationId: p.reservationId } : {}), reason: 'order changed', requestedAt: c.data.now },
      }));
    }
    case 'Withdraw': {
      // A withdrawal of a decided (or unknown) approval is a no-op: the order's cancellation raced the decision.
      if (s.status === 'none' || !isOpen(s)) return [];
      return [{ type: 'ApprovalWithdrawn', data: { approvalId: s.approvalId, orderId: s.orderId, reason: c.data.reason, withdrawnAt: c.data.now } }];
    }
    default:
      return assertNever(c, 'approval command');
  }
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

function withStep(s: OpenApproval, stepId: string, update: (st: StepState) => StepState): OpenApproval {
  return { ...s, steps: s.steps.map((st) => (st.step === stepId ? update(st) : st)) };
}
const indexOf = (s: OpenApproval, stepId: string) => s.steps.findIndex((st) => st.step === stepId);

function evolve(s: ApprovalState, e: ApprovalEvent): ApprovalState {
  if (e.type === 'ApprovalRequested') {
    const d = e.data;
    return {
      status: 'pending',
      approvalId: d.approvalId,
      orderId: d.orderId,
      kind: d.kind,
      ...(d.changeRequestId ? { changeRequestId: d.changeRequestId } : {}),
      chain: d.chain,
      chainVersion: d.chainVersion,
      chainHash: d.chainHash,
      requestedAt: d.requestedAt,
      ...(d.requestedBy ? { requestedBy: d.requestedBy } : {}),
      ...(d.grandTotal !== undefined ? { grandTotal: d.grandTotal } : {}),
      ...(d.currency ? { currency: d.currency } : {}),
      ...(d.ruleId ? { ruleId: d.ruleId } : {}),
      ...(d.ruleSetVersion ? { ruleSetVersion: d.ruleSetVersion } : {}),
      outOfOffice: d.outOfOffice ?? [],
      ...(d.change
        ? { change: { diff: d.change, channel: d.channel ?? 'unknown', ...(d.shopId ? { shopId: d.shopId } : {}), status: 'approval' as const, ...(d.changePrivate ? { private: d.changePrivate } : {}) } }
        : {}),
      steps: d.plan.map((p) => ({ ...p, status: 'waiting', slots: [], attempt: 0 })),
      current: null,
    };
  }
  if (s.status === 'none') return s;
  switch (e.type) {
    case 'ApprovalStepSkipped':
      return withStep(s, e.data.step, (st) => ({ ...st, status: 'skipped' }));
    case 'ApprovalStepStarted': {
      const at = indexOf(s, e.data.step);
      const next = withStep(s, e.data.step, (st) => ({
        ...st,
        status: 'active',
        attempt: e.data.attempt,
        slots: principalsOf(st).map((p) => ({ original: p, principal: p })),
        startedAt: e.data.startedAt,
        dueAt: e.data.dueAt,
        remindedAt: undefined,
        escalatedAt: undefined,
        escalatedTo: undefined,
        decidedBy: undefined,
        decidedAt: undefined,
        comment: undefined,
      }));
      return { ...next, status: 'pending', current: at };
    }
    case 'ApprovalStepDelegated':
      return withStep(s, e.data.step, (st) => {
        let moved = false;
        return {
          ...st,
          slots: st.slots.map((slot) => {
            if (moved || slot.vote || slot.principal !== e.data.from) return slot;
            moved = true;
            return { ...slot, principal: e.data.to };
          }),
        };
      });
    case 'ApprovalVoteRecorded':
      return withStep(s, e.data.step, (st) => {
        const actor = { id: e.data.by, role: e.data.role };
        return { ...st, slots: st.slots.map((slot) => (!slot.vote && actorMatches(actor, slot.principal) ? { ...slot, vote: { by: e.data.by, at: e.data.votedAt } } : slot)) };
      });
    case 'ApprovalStepApproved':
      return withStep(s, e.data.step, (st) => ({ ...st, status: 'approved', decidedBy: e.data.by, decidedAt: e.data.approvedAt, ...(e.data.comment ? { comment: e.data.comment } : {}) }));
    case 'ApprovalGranted':
      return { ...s, status: 'granted', current: null, decidedAt: e.data.grantedAt };
    case 'ApprovalRejected': {
      const next = withStep(s, e.data.step, (st) => ({ ...st, status: st.status === 'expired' ? 'expired' : 'rejected', decidedBy: e.data.by, decidedAt: e.data.rejectedAt, comment: e.data.reason }));
      return { ...next, status: 'rejected', current: null, decidedAt: e.data.rejectedAt, reason: e.data.reason };
    }
    case 'ApprovalReturned': {
      const next = withStep(s, e.data.step, (st) => ({ ...st, status: 'returned', decidedBy: e.data.by, decidedAt: e.data.returnedAt, comment: e.data.comment }));
      return { ...next, status: 'returned' };
    }
    case 'ApprovalResubmitted':
      return s;
    case 'ApprovalStepReminded':
      return withStep(s, e.data.step, (st) => ({ ...st, remindedAt: e.data.remindedAt }));
    case 'ApprovalStepEscalated':
      return withStep(s, e.data.step, (st) => ({ ...st, escalatedAt: e.data.escalatedAt, escalatedTo: e.data.to }));
    case 'ApprovalExpired':
      return withStep(s, e.data.step, (st) => ({ ...st, status: 'expired' }));
    case 'ApprovalWithdrawn':
      return { ...s, status: 'withdrawn', current: null, decidedAt: e.data.withdrawnAt, reason: e.data.reason };
    case 'ApprovalFreezeOverridden':
      return s.change ? { ...s, change: { ...s.change, freezeOverride: { shipmentIds: e.data.shipmentIds, by: e.data.by, reason: e.data.reason } } } : s;
    case 'ChangeStockReleaseRequested':
      return s;
    case 'ChangeStockLinesReleaseRequested':
      return s.change ? { ...s, change: { ...s.change, linesReleased: true } } : s;
    case 'ChangeStockRequested':
      return s.change ? { ...s, change: { ...s.change, status: 'reserving', reservationId: e.data.reservationId } } : s;
    case 'ChangeApproved':
      return s.change ? { ...s, change: { ...s.change, status: 'approved' } } : s;
    case 'ChangeApplyRequested':
      return s;
    case 'ChangeRefused':
      return s.change ? { ...s, change: { ...s.change, status: 'refused', refusal: { code: e.data.code, reason: e.data.reason } } } : s;
    default:
      return assertNever(e, 'approval event');
  }
}

/** Units a change gives up: removed lines whole, lowered quantities by the difference. */
export function releasedUnits(diff: ChangeDiff): { lineId: string; sku: string; quantity: number }[] {
  return [
    ...diff.lines.removed.filter((l) => l.quantity > 0).map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity })),
    ...diff.lines.changed.filter((c) => c.after < c.before).map((c) => ({ lineId: c.lineId, sku: c.sku, quantity: c.before - c.after })),
  ];
}

export const approvalDecider: Decider<ApprovalState, ApprovalCommand, ApprovalEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
};
