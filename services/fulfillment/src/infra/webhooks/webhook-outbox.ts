import { randomBytes } from 'node:crypto';
import type { SqlClient } from '@flowline/eventstore';
import { Webhook } from 'standardwebhooks';
import type { FulfillmentEvent } from '../../domain/order-fulfillment.decider';
import { webhookTypeOf } from '../../domain/webhook.policy';

/** A new signing secret in the Standard Webhooks format (`whsec_` + base64 of 24 random bytes). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The `webhook-signature` header: `v1,<sig>` per secret still valid (two during a rotation). */
export function signatureHeader(secrets: string[], id: string, at: Date, payload: string): string {
  return secrets.map((s) => new Webhook(s).sign(id, at, payload)).join(' ');
}

export interface AppendedEvent {
  eventId: string;
  occurredAt: string;
  event: FulfillmentEvent;
}

/**
 * Writes one delivery per (subscription, event) in the transaction that appends the events
 * (an outbox): a push is never lost and never invented. The payload follows the Standard
 * Webhooks shape {type, timestamp, data}.
 */
export async function enqueueWebhooks(client: SqlClient, orderId: string, events: AppendedEvent[], newId: () => string): Promise<void> {
  for (const { eventId, occurredAt, event } of events) {
    const type = webhookTypeOf(event);
    if (!type) continue;
    await enqueueWebhook(client, { orderId, eventId, type, occurredAt, data: event.data as unknown as Record<string, unknown> }, newId);
  }
}

/**
 * One delivery per active subscription of `type` for one event (also for events fulfillment
 * consumes from other services, written in the consumer's transaction with its inbox row).
 * Idempotent per (subscription, event).
 */
export async function enqueueWebhook(
  client: SqlClient,
  e: { orderId: string; eventId: string; type: string; occurredAt: string; data: Record<string, unknown> },
  newId: () => string,
): Promise<number> {
  const payload = JSON.stringify({ type: e.type, timestamp: e.occurredAt, data: { eventId: e.eventId, ...e.data } });
  const subs = await client.query<{ id: string }>('SELECT id FROM webhook_subscriptions WHERE active AND $1 = ANY (event_types) ORDER BY id', [e.type]);
  for (const s of subs.rows) {
    await client.query(
      `INSERT INTO webhook_deliveries (id, subscription_id, order_id, event_id, event_type, payload) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [newId(), s.id, e.orderId, e.eventId, e.type, payload],
    );
  }
  return subs.rows.length;
}
