import type { ApprovalCommand } from '../domain/approval.decider';
import { ApprovalErrorCode, ApprovalErrors } from '../domain/approval.errors';
import type { ChainSet } from '../domain/chains/chain-set';
import type { ChangeDiff, ChangePrivate } from '../domain/change-request';

/** The RequestApproval command of the decider for the chain named, from the chain set in force. */
export function requestCommand(
  chains: ChainSet,
  d: {
    approvalId: string;
    orderId: string;
    chain: string;
    kind: 'order' | 'change';
    changeRequestId?: string;
    ruleId?: string;
    ruleSetVersion?: string;
    grandTotal?: number;
    priceDifference?: number;
    currency?: string;
    requestedBy?: string;
    change?: ChangeDiff;
    changePrivate?: ChangePrivate;
    channel?: string;
    shopId?: string;
    freezeOverride?: { shipmentIds: string[]; by: string; role: string; reason: string };
    now: string;
  },
): ApprovalCommand {
  const chain = chains.chains[d.chain];
  if (!chain) throw ApprovalErrors.conflict(ApprovalErrorCode.UnknownChain, `no approval chain ${d.chain} in chain set ${chains.version}`, { chain: d.chain, known: Object.keys(chains.chains) });
  return {
    type: 'RequestApproval',
    data: {
      approvalId: d.approvalId,
      orderId: d.orderId,
      kind: d.kind,
      ...(d.changeRequestId ? { changeRequestId: d.changeRequestId } : {}),
      chain,
      chainVersion: chains.version,
      chainHash: chains.hash,
      facts: { ...(d.grandTotal !== undefined ? { grandTotal: d.grandTotal } : {}), ...(d.priceDifference !== undefined ? { priceDifference: d.priceDifference } : {}) },
      ...(d.currency ? { currency: d.currency } : {}),
      ...(d.ruleId ? { ruleId: d.ruleId } : {}),
      ...(d.ruleSetVersion ? { ruleSetVersion: d.ruleSetVersion } : {}),
      ...(d.requestedBy ? { requestedBy: d.requestedBy } : {}),
      outOfOffice: chains.outOfOffice,
      ...(d.change ? { change: d.change } : {}),
      ...(d.changePrivate ? { changePrivate: d.changePrivate } : {}),
      ...(d.channel ? { channel: d.channel } : {}),
      ...(d.shopId ? { shopId: d.shopId } : {}),
      ...(d.freezeOverride ? { freezeOverride: d.freezeOverride } : {}),
      now: d.now,
    },
  };
}
