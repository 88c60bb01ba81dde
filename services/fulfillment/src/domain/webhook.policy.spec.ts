import { describe, expect, it } from 'vitest';
import { nextAttemptAt, webhookTypeOf } from './webhook.policy';

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
