import { Topics } from '@flowline/contracts';
import type { RecordedEvent } from '@flowline/eventstore';
import type { RelayRoute } from '@flowline/messaging';
import { PUBLISHED_TYPES } from '../domain/order-fulfillment.decider';

export const FULFILLMENT_STREAM_PREFIXES = ['fulfillment-'];
export const PUBLISHED_STORED_TYPES: string[] = [...PUBLISHED_TYPES];

/**
 * Stored events -> fulfillment.events.v1, keyed by order id. The published types are stored with
 * their integration payload; the rest (start, picking, scans, stop request) stay inside.
 */
export function fulfillmentRelayRoute(e: RecordedEvent): RelayRoute | null {
  if (!PUBLISHED_STORED_TYPES.includes(e.type)) return null;
  const data = e.data as { orderId: string };
  return { topic: Topics.fulfillmentEvents, key: data.orderId, type: e.type, schemaVersion: 1, data: e.data };
}
