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

/** One delivery per (active subscription of the event's type, event), every event in ONE statement. */
const ENQUEUE = `INSERT INTO webhook_deliveries (id, subscription_id, order_id, event_id, event_type, payload)
  SELECT e.id || '-' || s.id, s.id, e.order_id, e.event_id, e.event_type, e.payload
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(id, order_id, event_id, event_type, payload, ord)
    JOIN webhook_subscriptions s ON s.active AND e.event_type = ANY (s.event_types)
   ORDER BY e.ord, s.id
  ON CONFLICT (subscription_id, event_id) DO NOTHING`;

/**
 * Writes one delivery per (subscription, event) in the transaction that appends the events
 * (an outbox): a push is never lost and never invented. The payload follows the Standard
 * Webhooks shape {type, timestamp, data}. One statement for all events (none when no event is pushed).
 */
export async function enqueueWebhooks(client: SqlClient, orderId: string, events: AppendedEvent[], newId: () => string): Promise<void> {
  const pushed = events.flatMap(({ eventId, occurredAt, event }) => {
    const type = webhookTypeOf(event);
    return type ? [{ orderId, eventId, type, occurredAt, data: event.data as unknown as Record<string, unknown> }] : [];
  });
  await enqueueMany(client, pushed, newId);
}

/**
 * One delivery per active subscription of `type` for one event (also for events fulfillment
 * consumes from other services, written in the consumer's transaction with its inbox row).
 * Idempotent per (subscription, event). The delivery id is a new id per event, suffixed with the subscription's.
 */
export async function enqueueWebhook(
  client: SqlClient,
  e: { orderId: string; eventId: string; type: string; occurredAt: string; data: Record<string, unknown> },
  newId: () => string,
): Promise<number> {
  return enqueueMany(client, [e], newId);
}

async function enqueueMany(client: SqlClient, events: { orderId: string; eventId: string; type: string; occurredAt: string; data: Record<string, unknown> }[], newId: () => string): Promise<number> {
  if (events.length === 0) return 0;
  const r = await client.query(ENQUEUE, [
    events.map(() => newId()),
    events.map((e) => e.orderId),
    events.map((e) => e.eventId),
    events.map((e) => e.type),
    events.map((e) => JSON.stringify({ type: e.type, timestamp: e.occurredAt, data: { eventId: e.eventId, ...e.data } })),
  ]);
  return r.rowCount ?? 0;
}
