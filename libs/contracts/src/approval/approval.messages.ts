/**
 * Approval's public surface. Commands on `approval.commands.v1`, events on `approval.events.v1`,
 * both keyed by orderId. An approval request runs one chain (services/approval/chains/*.chains.yaml)
 * for an order (`kind: order`, asked for by order-intake's flow rules) or for an order change
 * request (`kind: change`). Every decision records the version of the chain file it ran under.
 */

/** A principal who may decide a step: `user:<id>` or `role:<role>` (DOMAIN.md roles). */
export type ApprovalPrincipal = string;

/** A file attached to a decision (design drawing, quote). */
export interface ApprovalAttachment {
  name: string;
  url: string;
}

import type { AddressView, OrderLineView, OrderTotals } from '../orders/order.types';

/** Invoice information (发票) as published: the title masked when it is a person's name. */
export interface InvoiceView {
  type: 'personal' | 'company';
  titleMasked: string;
  taxId?: string;
}

/** An order change request's diff, computed from the order's current state when it was raised. */
export interface OrderChangeDiff {
  lines: {
    added: OrderLineView[];
    removed: OrderLineView[];
    changed: { lineId: string; sku: string; before: number; after: number }[];
  };
  /** Masked both ways; the clear new address goes to order-intake only on its private command (ApplyOrderChange). */
  shippingAddress?: { before: AddressView; after: AddressView };
  /** Carrier service the customer wants instead (e.g. `express`); `before` when known. */
  shippingMethod?: { before?: string; after: string };
  /** New invoice information (masked; the clear one travels on ApplyOrderChange). */
  invoice?: { after: InvoiceView };
  totals: { before: OrderTotals; after: OrderTotals };
  /** after.grandTotal - before.grandTotal (fen): > 0 an extra payment due, < 0 a partial refund. */
  priceDifference: number;
  note?: string;
}

/** One step of the chain as planned when the approval was requested. */
export interface ApprovalStepPlan {
  step: string;
  role?: string;
  approvers?: string[];
  quorum: 'any' | 'all';
  slaMs: number;
  remindAfterMs: number;
  escalateTo?: { role?: string; approver?: string };
  /** The chain's skip condition held for this request (e.g. cost review only above an amount). */
  skip: boolean;
}

export interface ApprovalCommandDataMap {
  /** Start the named chain (e.g. custom-order: sales -> designer -> cost_accountant -> general_manager). */
  RequestApproval: { orderId: string; chain: string; ruleId: string; ruleSetVersion: string; grandTotal: number; currency: string };
  /** The order was cancelled: withdraw any open approval. */
  WithdrawApproval: { orderId: string; reason: string };
}

export interface ApprovalEventDataMap {
  ApprovalRequested: {
    approvalId: string;
    orderId: string;
    chain: string;
    steps: string[];
    /** `order` (flow rule) or `change` (order change request). Absent: order. */
    kind?: 'order' | 'change';
    changeRequestId?: string;
    chainVersion?: string;
    chainHash?: string;
    plan?: ApprovalStepPlan[];
    grandTotal?: number;
    currency?: string;
    priceDifference?: number;
    ruleId?: string;
    ruleSetVersion?: string;
    requestedBy?: string;
    /** kind `change`: the diff stored with the request. */
    change?: OrderChangeDiff;
    channel?: string;
    requestedAt?: string;
  };
  /** A general manager overrode the freeze after packing (特批) to let a change request through. */
  ApprovalFreezeOverridden: { approvalId: string; orderId: string; shipmentIds: string[]; by: string; role: string; reason: string; overriddenAt: string };
  /**
   * A change request passed its chain and the stock for what it adds is reserved (in its own
   * reservation `reservationId`): order-intake applies it to the order as one OrderChanged.
   */
  ChangeApproved: {
    approvalId: string;
    orderId: string;
    changeRequestId: string;
    diff: OrderChangeDiff;
    reservationId?: string;
    allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[];
    /** The request passed the freeze after packing by a general manager's override: the order re-opens its packed shipment to apply it. */
    freezeOverride?: { shipmentIds: string[]; by: string; reason: string };
    /**
     * `command`: the change carries personal data (a new address or invoice), so order-intake applies
     * it from the private ApplyOrderChange on orders.commands.v1 (sent with this event) and ignores
     * this one. Absent: order-intake applies this event.
     */
    appliedBy?: 'command';
    approvedAt: string;
  };
  /** A change request that will not be applied as a whole: no stock for what it adds, or the order refused it (packed meanwhile). */
  ChangeRefused: {
    approvalId: string;
    orderId: string;
    changeRequestId: string;
    /** CHANGE_NO_STOCK or CHANGE_REFUSED_BY_ORDER. */
    code: string;
    reason: string;
    missing?: { sku: string; requested: number; available: number }[];
    refusedAt: string;
  };
  /** A step's skip condition held: it is passed without a decision. */
  ApprovalStepSkipped: { approvalId: string; orderId: string; step: string; reason: string; skippedAt: string };
  /** A step waits for its approvers from now on; reminded at `remindAt`, overdue (escalated) at `dueAt`. */
  ApprovalStepStarted: {
    approvalId: string;
    orderId: string;
    step: string;
    role?: string;
    approvers?: string[];
    quorum: 'any' | 'all';
    /** 1 on the first start, +1 after each return for changes. */
    attempt: number;
    startedAt: string;
    remindAt: string;
    dueAt: string;
  };
  /** A slot of the step moved to another person (`by` is the delegating user, or `out-of-office` for a rule). */
  ApprovalStepDelegated: { approvalId: string; orderId: string; step: string; from: ApprovalPrincipal; to: ApprovalPrincipal; by: string; reason: string; delegatedAt: string };
  /** One approver of an `all`-quorum step approved; `remaining` still have to. */
  ApprovalVoteRecorded: { approvalId: string; orderId: string; step: string; by: string; role: string; comment?: string; remaining: ApprovalPrincipal[]; votedAt: string };
  ApprovalStepApproved: {
    approvalId: string;
    orderId: string;
    step: string;
    role: string;
    by: string;
    comment?: string;
    attachments?: ApprovalAttachment[];
    chainVersion?: string;
    approvedAt?: string;
  };
  /** Every step approved: the order may go on (or the change request is applied). */
  ApprovalGranted: { approvalId: string; orderId: string; chain: string; kind?: 'order' | 'change'; changeRequestId?: string; chainVersion?: string; grantedAt?: string };
  ApprovalRejected: {
    approvalId: string;
    orderId: string;
    chain: string;
    step: string;
    by: string;
    reason: string;
    role?: string;
    kind?: 'order' | 'change';
    changeRequestId?: string;
    chainVersion?: string;
    rejectedAt?: string;
  };
  /** Returned for changes: the order is kept (still awaiting approval) until the request is resubmitted. */
  ApprovalReturned: {
    approvalId: string;
    orderId: string;
    chain: string;
    step: string;
    by: string;
    role: string;
    comment: string;
    attachments?: ApprovalAttachment[];
    kind: 'order' | 'change';
    chainVersion: string;
    returnedAt: string;
  };
  /** The requester made the changes: the returning step decides again. */
  ApprovalResubmitted: { approvalId: string; orderId: string; step: string; by: string; comment?: string; resubmittedAt: string };
  /** A step's reminder time passed without a decision (durable timer). */
  ApprovalStepReminded: { approvalId: string; orderId: string; step: string; attempt: number; principals: ApprovalPrincipal[]; remindedAt: string; dueAt: string };
  /** A step passed its SLA: `to` may now decide it too; it expires at `expireAt`. */
  ApprovalStepEscalated: { approvalId: string; orderId: string; step: string; attempt: number; to: ApprovalPrincipal; escalatedAt: string; expireAt: string };
  /** An escalated step passed its second deadline: the request is rejected (ApprovalRejected follows). */
  ApprovalExpired: { approvalId: string; orderId: string; step: string; attempt: number; expiredAt: string };
  ApprovalWithdrawn: { approvalId: string; orderId: string; reason: string; withdrawnAt?: string };
}

export type ApprovalCommandType = keyof ApprovalCommandDataMap;
export type ApprovalEventType = keyof ApprovalEventDataMap;
