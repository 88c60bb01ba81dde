import type { EventEnvelope } from '@flowline/contracts';
import type { PgTransaction } from '@flowline/messaging';
import { approvalWebhookOf } from '../../domain/webhook.policy';
import { enqueueWebhook } from '../../infra/webhooks/webhook-outbox';

/**
 * approval.events.v1 -> outbound webhooks: an order whose approval was granted (the approved
 * custom order the factory's MES waits for) becomes an `order.approved` delivery to every
 * subscriber of that type, written in the consumer's transaction with its inbox row (a
 * redelivered event is not pushed twice). Which events are pushed is the pure webhook policy.
 */
export function approvalEventsHandler(newId: () => string) {
  return async (envelope: EventEnvelope, tx: PgTransaction): Promise<void> => {
    const push = approvalWebhookOf(envelope.type, envelope.data as Parameters<typeof approvalWebhookOf>[1]);
    if (!push) return;
    await enqueueWebhook(tx.client, { orderId: push.orderId, eventId: envelope.eventId, type: push.type, occurredAt: envelope.occurredAt, data: push.data }, newId);
  };
}
