import type { ApprovalCommandDataMap, EventEnvelope } from '@flowline/contracts';

/** What a message on approval.commands.v1 asks for, or null for a type this service does not take. */
export type ApprovalCommandMessage =
  | { type: 'RequestApproval'; data: ApprovalCommandDataMap['RequestApproval'] }
  | { type: 'WithdrawApproval'; data: ApprovalCommandDataMap['WithdrawApproval'] };

/** Translation only: the envelope of a command becomes a typed message; the rules are in the decider. */
export function toApprovalCommand(envelope: EventEnvelope): ApprovalCommandMessage | null {
  const data = envelope.data as { orderId?: unknown } | null;
  if (!data || typeof data.orderId !== 'string') return null;
  if (envelope.type === 'RequestApproval' || envelope.type === 'WithdrawApproval') return { type: envelope.type, data } as ApprovalCommandMessage;
  return null;
}
