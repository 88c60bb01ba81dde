import { Topics, type EventEnvelope } from '@flowline/contracts';
import type { SqlClient } from '@flowline/eventstore';
import type { ProcessEvent } from '../../domain/policies/order-process.policy';
import { inOperation } from '../../application/operation-scope';
import type { ProcessManagerRunner } from '../../application/process-manager.runner';

/**
 * Topics the process manager reads, and the context each one speaks for. Only facts from other
 * services: order-intake's own events (orders.events.v1) are reacted to in the transaction that
 * appends them (application/order-reactions.ts, docs/adr/0015-in-process-order-flow.md), never
 * read back from Kafka.
 */
export const PROCESS_MANAGER_TOPICS = {
  [Topics.inventoryEvents]: 'inventory',
  [Topics.approvalEvents]: 'approval',
  [Topics.fulfillmentEvents]: 'fulfillment',
  // approval's private commands to order-intake (ApplyOrderChange: a change with a new address / invoice).
  [Topics.orderCommands]: 'approval',
} as const;

type ExternalContext = (typeof PROCESS_MANAGER_TOPICS)[keyof typeof PROCESS_MANAGER_TOPICS];

/**
 * The types the policy reacts to, per context: anything else (the stock facts older releases
 * published on inventory.events.v1, approval steps, ShipmentTrackingUpdated...) is acknowledged by the consumer
 * without a transaction, an inbox row or a stream load.
 */
export const REACTED_TO: Record<ExternalContext, ReadonlySet<string>> = {
  inventory: new Set(['StockReserved', 'StockShortage']),
  approval: new Set(['ApprovalGranted', 'ApprovalRejected', 'ChangeApproved', 'ApplyOrderChange']),
  fulfillment: new Set(['ShipmentPacked', 'ShipmentShipped', 'ShipmentDelivered', 'ShipmentCarrierException', 'ReturnReceived', 'FulfillmentStopped']),
};

/** Whether the process manager reacts to a message of `type` on `topic` (the filter before any work). */
export function reactsTo(topic: string, type: string): boolean {
  const context = PROCESS_MANAGER_TOPICS[topic as keyof typeof PROCESS_MANAGER_TOPICS];
  return context !== undefined && REACTED_TO[context].has(type);
}

/**
 * The Kafka side of the process manager: an envelope from one of its topics becomes a
 * ProcessEvent for the runner. Translation only; the rules live in the pure policy.
 */
export function toProcessEvent(topic: string, envelope: EventEnvelope): ProcessEvent | null {
  if (!reactsTo(topic, envelope.type)) return null;
  const context = PROCESS_MANAGER_TOPICS[topic as keyof typeof PROCESS_MANAGER_TOPICS];
  const data = envelope.data as { orderId?: unknown } | null;
  if (!data || typeof data.orderId !== 'string') return null;
  return { context, type: envelope.type, data } as ProcessEvent;
}

export function processManagerHandler(runner: ProcessManagerRunner) {
  return async (envelope: EventEnvelope, tx: { client: SqlClient }, message: { topic: string }): Promise<void> => {
    const event = toProcessEvent(message.topic, envelope);
    if (!event) return;
    await inOperation(`pm:${event.type}`, () => runner.handle(event, { eventId: envelope.eventId, correlationId: envelope.correlationId }, tx.client));
  };
}
