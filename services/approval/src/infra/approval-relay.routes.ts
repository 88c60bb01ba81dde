import { Topics, type ApprovalEventDataMap } from '@flowline/contracts';
import type { RecordedEvent } from '@flowline/eventstore';
import type { RelayRoute } from '@flowline/messaging';
import type { ApprovalEvent } from '../domain/approval.decider';

export const APPROVAL_STREAM_PREFIXES = ['approval-'];

/**
 * Stored approval events are published as they are on `approval.events.v1`, keyed by orderId,
 * except the out-of-office rules copied into ApprovalRequested (internal: who is away is not published).
 */
export function approvalRelayRoute(e: RecordedEvent): RelayRoute | null {
  const event = { type: e.type, data: e.data } as ApprovalEvent;
  let data: ApprovalEventDataMap[keyof ApprovalEventDataMap] = event.data;
  if (event.type === 'ApprovalRequested') {
    const { outOfOffice: _internal, ...published } = event.data;
    data = published;
  }
  return { topic: Topics.approvalEvents, key: event.data.orderId, type: event.type, schemaVersion: 1, data };
}
