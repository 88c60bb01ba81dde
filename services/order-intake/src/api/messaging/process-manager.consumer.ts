import { ORDER_EVENT_TYPES, Topics, type EventEnvelope } from '@flowline/contracts';
import type { SqlClient } from '@flowline/eventstore';
import type { ProcessEvent } from '../../domain/policies/order-process.policy';
import type { ProcessManagerRunner } from '../../application/process-manager.runner';

/** Topics the process manager reads, and the context each one speaks for. */
export const PROCESS_MANAGER_TOPICS = {
  [Topics.orderEvents]: 'orders',
  [Topics.inventoryEvents]: 'inventory',
  [Topics.approvalEvents]: 'approval',
  [Topics.fulfillmentEvents]: 'fulfillment',
} as const;

const KNOWN: Record<ProcessEvent['context'], readonly string[]> = {
  orders: ORDER_EVENT_TYPES,
  inventory: ['StockReserved', 'StockShortage', 'StockReleased', 'StockCommitted'],
  approval: ['ApprovalRequested', 'ApprovalStepApproved', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalWithdrawn', 'ChangeApproved'],
  fulfillment: ['ShipmentPacked', 'ShipmentShipped', 'ShipmentDelivered', 'FulfillmentStopped', 'ShipmentCarrierException', 'ReturnReceived'],
};

/**
 * The Kafka side of the process manager: an envelope from one of its topics becomes a
 * ProcessEvent for the runner. Translation only; the rules live in the pure policy. Events the
 * order flow does not react to (stock levels on inventory.events.v1, ...) are ignored.
 */
export function toProcessEvent(topic: string, envelope: EventEnvelope): ProcessEvent | null {
  const context = PROCESS_MANAGER_TOPICS[topic as keyof typeof PROCESS_MANAGER_TOPICS];
  if (!context || !KNOWN[context].includes(envelope.type)) return null;
  const data = envelope.data as { orderId?: unknown } | null;
  if (!data || typeof data.orderId !== 'string') return null;
  return { context, type: envelope.type, data } as ProcessEvent;
}

export function processManagerHandler(runner: ProcessManagerRunner) {
  return async (envelope: EventEnvelope, tx: { client: SqlClient }, message: { topic: string }): Promise<void> => {
    const event = toProcessEvent(message.topic, envelope);
    if (!event) return;
    await runner.handle(event, { eventId: envelope.eventId, correlationId: envelope.correlationId }, tx.client);
  };
}
