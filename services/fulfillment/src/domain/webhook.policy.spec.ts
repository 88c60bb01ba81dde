import { describe, expect, it } from 'vitest';
import { approvalWebhookOf, forbiddenWebhookHost, nextAttemptAt, webhookTypeOf } from './webhook.policy';

const T0 = '2026-01-05T08:00:00.000Z';
const policy = { baseMs: 1_000, maxMs: 60_000, horizonMs: 24 * 3_600_000 };

describe('webhook retries', () => {
  it('back off exponentially from the base, capped', () => {
    expect(nextAttemptAt(1, T0, T0, policy)).toBe('2026-01-05T08:00:01.000Z');
    expect(nextAttemptAt(2, T0, T0, policy)).toBe('2026-01-05T08:00:02.000Z');
    expect(nextAttemptAt(5, T0, T0, policy)).toBe('2026-01-05T08:00:16.000Z');
    expect(nextAttemptAt(20, T0, T0, policy)).toBe('2026-01-05T08:01:00.000Z');
  });
  it('give up past 24 hours after the delivery was created', () => {
    expect(nextAttemptAt(40, T0, '2026-01-06T07:58:00.000Z', policy)).toBe('2026-01-06T07:59:00.000Z');
    expect(nextAttemptAt(40, T0, '2026-01-06T07:59:30.000Z', policy)).toBeNull();
  });
});

describe('webhook types', () => {
  it('push ready, packed, shipped, delivered, stopped and carrier problems; not scans', () => {
    expect(webhookTypeOf({ type: 'ShipmentShipped', data: { orderId: 'o', shipmentId: 's', carrier: 'SF', trackingNumber: 't' } })).toBe('shipment.shipped');
    expect(webhookTypeOf({ type: 'ShipmentItemScanned', data: { orderId: 'o', shipmentId: 's', sku: 'x', quantity: 1, at: T0 } })).toBeNull();
  });
});

describe('approvalWebhookOf', () => {
  it('an order approval granted is order.approved with its chain', () => {
    expect(approvalWebhookOf('ApprovalGranted', { approvalId: 'A1', orderId: 'O1', chain: 'custom-order', kind: 'order', chainVersion: '2' })).toEqual({
      type: 'order.approved',
      orderId: 'O1',
      data: { orderId: 'O1', approvalId: 'A1', chain: 'custom-order', chainVersion: '2' },
    });
    expect(approvalWebhookOf('ApprovalGranted', { approvalId: 'A1', orderId: 'O1', chain: 'custom-order' })?.type).toBe('order.approved');
  });
  it('an approved change request, a rejection or an event without an order is not pushed', () => {
    expect(approvalWebhookOf('ApprovalGranted', { approvalId: 'A2', orderId: 'O1', chain: 'change', kind: 'change' })).toBeNull();
    expect(approvalWebhookOf('ApprovalRejected', { approvalId: 'A3', orderId: 'O1', chain: 'custom-order' })).toBeNull();
    expect(approvalWebhookOf('ApprovalGranted', { approvalId: 'A4', chain: 'custom-order' })).toBeNull();
  });
});

describe('webhook targets', () => {
  it('refuses link-local, unspecified and cloud-metadata hosts; private networks and loopback stay allowed (an MES)', () => {
    for (const h of ['169.254.169.254', '169.254.0.1', '0.0.0.0', '[::]', '::', 'fe80::1', '[fe80::1]', '::ffff:169.254.169.254', 'metadata.google.internal', 'METADATA.GOOGLE.INTERNAL.', '100.100.100.200', 'fd00:ec2::254', '[64:ff9b::a9fe:a9fe]', '[::a9fe:a9fe]']) {
      expect(forbiddenWebhookHost(h), h).not.toBeNull();
    }
    // The form a URL actually gives the IPv4-mapped metadata address, and other encodings of 169.254.169.254.
    for (const url of ['http://[::ffff:169.254.169.254]/', 'http://2852039166/', 'http://0xa9.0xfe.0xa9.0xfe/', 'http://169.254.169.254./']) {
      expect(forbiddenWebhookHost(new URL(url).hostname), url).not.toBeNull();
    }
    for (const h of ['[::ffff:10.0.0.5]', '[::ffff:a00:5]']) {
      expect(forbiddenWebhookHost(h), h).toBeNull();
    }
    for (const h of [] as string[]) {
      expect(forbiddenWebhookHost(h), h).not.toBeNull();
    }
    for (const h of ['127.0.0.1', '10.0.0.5', '192.168.1.20', 'mes.example.com', '::1', 'localhost', '[2001:db8::1]']) {
      expect(forbiddenWebhookHost(h), h).toBeNull();
    }
  });
});
