import { describe, expect, it } from 'vitest';
import { orderIntakeConfigFromEnv, orderPoolSize } from './order-intake.config';

describe('order-intake pool size', () => {
  it('never goes below 16 connections (requests share it since the idempotency pool is gone)', () => {
    expect(orderPoolSize({ processManagerConcurrency: 1 }, {})).toBe(16);
    expect(orderPoolSize(orderIntakeConfigFromEnv({}), {})).toBeGreaterThanOrEqual(16);
  });

  it('DATABASE_POOL_MAX lowers it, but not to twice the process-manager concurrency or below', () => {
    expect(orderPoolSize({ processManagerConcurrency: 2 }, { DATABASE_POOL_MAX: '8' })).toBe(8);
    expect(orderPoolSize({ processManagerConcurrency: 2 }, { DATABASE_POOL_MAX: '3' })).toBe(6);
    expect(orderPoolSize({ processManagerConcurrency: 4 }, { DATABASE_POOL_MAX: '40' })).toBe(16);
  });

  it('grows past twice the process-manager concurrency, so partitions holding a transaction can always load an order', () => {
    for (const c of [1, 4, 5, 10, 12, 32]) {
      const size = orderPoolSize(orderIntakeConfigFromEnv({ ORDER_PM_CONCURRENCY: String(c) }), { DATABASE_POOL_MAX: '1' });
      expect(size).toBeGreaterThan(2 * c);
    }
  });
});
