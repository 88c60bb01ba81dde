import { randomBytes } from 'node:crypto';
import type { SqlClient } from '@flowline/eventstore';
import { namedStatement } from '@flowline/messaging';
import { Webhook } from 'standardwebhooks';
import { shipmentUpsertSql, upsertShipmentRows, type ShipmentRow } from '../../application/shipment-rows';
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
 * One delivery per (active subscription of the event's type, event), every event in ONE statement;
 * the events are the five arrays from parameter `$<first>` on. The subscriptions are read by the
 * statement itself (no cached list): a subscription committed by any instance before the statement
 * runs is honoured.
 */
const enqueueSql = (first: number): string => `INSERT INTO webhook_deliveries (id, subscription_id, order_id, event_id, event_type, payload)
  SELECT e.id || '-' || s.id, s.id, e.order_id, e.event_id, e.event_type, e.payload
    FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::text[]) WITH ORDINALITY AS e(id, order_id, event_id, event_type, payload, ord)
    JOIN webhook_subscriptions s ON s.active AND e.event_type = ANY (s.event_types)
   ORDER BY e.ord, s.id
  ON CONFLICT (subscription_id, event_id) DO NOTHING`;
const ENQUEUE = enqueueSql(1);

/**
 * The parcel rows and the webhook outbox of one command in ONE statement (a data-modifying WITH:
 * both inserts run on the statement's snapshot, the rows upserted as upsertShipmentRows does).
 * Issue #10: the outbox INSERT ... SELECT was a round trip of its own on every command that
 * appended a pushed event, also with no subscription at all; folded into the parcel upsert it
 * costs none, and stays exact with any number of fulfillment instances (nothing cached: the
 * subscriptions are read by the statement, as before).
 */
const PARCELS_AND_DELIVERIES = `WITH parcels AS (${shipmentUpsertSql(1)})
${enqueueSql(2)}`;

/**
 * The writes of an order's command that go with its events (FulfillmentHandler's WriteWithEvents),
 * in the transaction that appends them: its parcel rows and one delivery per (active subscription,
 * pushed event) - an outbox: a push is never lost and never invented. The payload follows the
 * Standard Webhooks shape {type, timestamp, data}. ONE statement for rows and deliveries; the rows
 * alone when no event of the command is pushed, the deliveries alone when there is no row.
 */
export async function writeParcelsAndWebhooks(client: SqlClient, orderId: string, rows: ShipmentRow[], events: AppendedEvent[], newId: () => string): Promise<void> {
  const pushed = pushedOf(orderId, events);
  if (pushed.length === 0) return upsertShipmentRows(client, rows);
  if (rows.length === 0) {
    await enqueueMany(client, pushed, newId);
    return;
  }
  // Prepared (one text): planned once per connection on the consumer's generic plans.
  await client.query(namedStatement(PARCELS_AND_DELIVERIES, [JSON.stringify(rows), ...deliveryParams(pushed, newId)]));
}

type Pushed = { orderId: string; eventId: string; type: string; occurredAt: string; data: Record<string, unknown> };

function pushedOf(orderId: string, events: AppendedEvent[]): Pushed[] {
  return events.flatMap(({ eventId, occurredAt, event }) => {
    const type = webhookTypeOf(event);
    return type ? [{ orderId, eventId, type, occurredAt, data: event.data as unknown as Record<string, unknown> }] : [];
  });
}

function deliveryParams(events: Pushed[], newId: () => string): string[][] {
  return [
    events.map(() => newId()),
    events.map((e) => e.orderId),
    events.map((e) => e.eventId),
    events.map((e) => e.type),
    events.map((e) => JSON.stringify({ type: e.type, timestamp: e.occurredAt, data: { eventId: e.eventId, ...e.data } })),
  ];
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

async function enqueueMany(client: SqlClient, events: Pushed[], newId: () => string): Promise<number> {
  if (events.length === 0) return 0;
  const r = await client.query(ENQUEUE, deliveryParams(events, newId));
  return r.rowCount ?? 0;
}
