import { describe, expect, it } from 'vitest';
import { orderIntakeConfigFromEnv, orderPoolSize } from './order-intake.config';

describe('order-intake pool size', () => {
  it('never goes below 16 connections (requests share it since the idempotency pool is gone)', () => {
    expect(orderPoolSize({ processManagerConcurrency: 1 })).toBe(16);
    expect(orderPoolSize(orderIntakeConfigFromEnv({}))).toBeGreaterThanOrEqual(16);
  });

  it('grows past twice the process-manager concurrency, so partitions holding a transaction can always load an order', () => {
    for (const c of [1, 4, 5, 10, 12, 32]) {
      const size = orderPoolSize(orderIntakeConfigFromEnv({ ORDER_PM_CONCURRENCY: String(c) }));
      expect(size).toBeGreaterThan(2 * c);
    }
  });
});
