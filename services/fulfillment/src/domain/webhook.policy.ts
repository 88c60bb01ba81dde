import type { FulfillmentEvent } from './order-fulfillment.decider';

/**
 * Outbound pushes to a seller's MES / ERP (Standard Webhooks): which fulfilment events a
 * subscriber can ask for, and when a failed delivery is tried again. Pure.
 */
export const WEBHOOK_EVENT_TYPES = ['order.approved', 'order.ready_to_ship', 'shipment.packed', 'shipment.shipped', 'shipment.delivered', 'fulfillment.stopped', 'shipment.carrier_exception', 'shipment.returned'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The webhook type of a stored event, or null when it is not pushed. */
export function webhookTypeOf(e: FulfillmentEvent): WebhookEventType | null {
  switch (e.type) {
    case 'FulfillmentStarted':
      return 'order.ready_to_ship';
    case 'ShipmentPacked':
      return 'shipment.packed';
    case 'ShipmentShipped':
      return 'shipment.shipped';
    case 'ShipmentDelivered':
      return 'shipment.delivered';
    case 'FulfillmentStopped':
      return 'fulfillment.stopped';
    case 'ShipmentCarrierException':
      return 'shipment.carrier_exception';
    case 'ReturnReceived':
      return 'shipment.returned';
    default:
      return null;
  }
}

/**
 * The push of an approval decided in the approval service (approval.events.v1): an order whose
 * approval chain was granted (a custom order the factory may now make) is `order.approved`; an
 * approved change request is not pushed (its effect arrives as the order's own events). Null
 * when the event is not pushed.
 */
export function approvalWebhookOf(
  type: string,
  data: { orderId?: string; approvalId?: string; chain?: string; kind?: string; chainVersion?: string; grantedAt?: string },
): { type: WebhookEventType; orderId: string; data: Record<string, unknown> } | null {
  if (type !== 'ApprovalGranted' || data.kind === 'change' || !data.orderId) return null;
  return {
    type: 'order.approved',
    orderId: data.orderId,
    data: { orderId: data.orderId, approvalId: data.approvalId, chain: data.chain, ...(data.chainVersion ? { chainVersion: data.chainVersion } : {}), ...(data.grantedAt ? { grantedAt: data.grantedAt } : {}) },
  };
}

export interface RetryPolicy {
  /** First retry after this many ms; doubles each attempt. */
  baseMs: number;
  /** Longest wait between two attempts. */
  maxMs: number;
  /** Give up this long after the delivery was created (24 h). */
  horizonMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 5_000, maxMs: 3_600_000, horizonMs: 24 * 3_600_000 };

/**
 * When to try again after `attempts` failed attempts (exponential backoff, capped), or null when
 * the next attempt would fall past the horizon: the delivery is then given up (manual redelivery
 * still works).
 */
export function nextAttemptAt(attempts: number, createdAt: string, now: string, policy: RetryPolicy = DEFAULT_RETRY): string | null {
  const wait = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  const next = Date.parse(now) + wait;
  if (next - Date.parse(createdAt) > policy.horizonMs) return null;
  return new Date(next).toISOString();
}

/** Host names of cloud instance-metadata services (credentials live there). */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.tencentyun.com']);

/** Metadata services outside the link-local range: Alibaba Cloud's, and AWS's IPv6 one. */
const METADATA_ADDRESSES = new Set(['100.100.100.200', 'fd00:ec2::254']);

/**
 * The IPv4 address an IPv6 literal carries, if any: IPv4-mapped (::ffff:a9fe:a9fe, which is how a
 * URL writes [::ffff:169.254.169.254]), IPv4-compatible (::a9fe:a9fe) and NAT64 (64:ff9b::a9fe:a9fe).
 */
function embeddedIPv4(h: string): string | null {
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(h);
  if (dotted) return dotted[1] ?? null;
  const hex = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!hex) return null;
  const [hi, lo] = [parseInt(hex[1] ?? '0', 16), parseInt(hex[2] ?? '0', 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * Why a webhook may not be sent to `host` (a URL's hostname, or an address it resolved to), or null.
 * Refused: link-local addresses (169.254.0.0/16 holds the cloud metadata service, fe80::/10), the
 * unspecified address (0.0.0.0/8, ::), other clouds' metadata addresses and names, and IPv6 forms
 * that carry one of those IPv4 addresses. Private and loopback networks are allowed: a factory MES
 * usually sits on one. Pure: the dispatcher checks resolved addresses too.
 */
export function forbiddenWebhookHost(host: string): string | null {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (METADATA_HOSTS.has(h) || METADATA_ADDRESSES.has(h)) return `${host} is a cloud metadata service`;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(h);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (a === 169 && b === 254) return `${host} is a link-local address (cloud metadata lives there)`;
    if (a === 0) return `${host} is the unspecified address`;
    return null;
  }
  if (h.includes(':')) {
    const carried = embeddedIPv4(h);
    if (carried) return forbiddenWebhookHost(carried) ? `${host} carries ${carried}: ${forbiddenWebhookHost(carried)}` : null;
    if (h === '::' || /^0*(:0*)*:?$/.test(h)) return `${host} is the unspecified address`;
    if (/^fe[89ab][0-9a-f]?:/.test(h)) return `${host} is a link-local address`;
  }
  return null;
}
