/**
 * Approval's public surface (defined before the service exists so the order flow is complete).
 * Commands on `approval.commands.v1`, events on `approval.events.v1`, both keyed by orderId.
 */
export interface ApprovalCommandDataMap {
  /** Start the named chain (e.g. custom-order: sales -> designer -> cost_accountant -> general_manager). */
  RequestApproval: { orderId: string; chain: string; ruleId: string; ruleSetVersion: string; grandTotal: number; currency: string };
  /** The order was cancelled: withdraw any open approval. */
  WithdrawApproval: { orderId: string; reason: string };
}

export interface ApprovalEventDataMap {
  ApprovalRequested: { approvalId: string; orderId: string; chain: string; steps: string[] };
  ApprovalStepApproved: { approvalId: string; orderId: string; step: string; role: string; by: string; comment?: string };
  /** Every step approved: the order may go on. */
  ApprovalGranted: { approvalId: string; orderId: string; chain: string };
  ApprovalRejected: { approvalId: string; orderId: string; chain: string; step: string; by: string; reason: string };
  ApprovalWithdrawn: { approvalId: string; orderId: string; reason: string };
}

export type ApprovalCommandType = keyof ApprovalCommandDataMap;
export type ApprovalEventType = keyof ApprovalEventDataMap;
