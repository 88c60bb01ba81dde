import { describe, expect, it } from 'vitest';
import { loadNotificationConfig } from '../infra/notification-config';
import { FACT_EVENT_TYPES, mayConcernAnOrder } from './notification-intake';

describe('the consumer type prefilter (mayConcernAnOrder)', () => {
  it('drops the SKU-keyed stock types, which name no order, before their JSON is parsed', () => {
    for (const t of ['StockLevelChanged', 'AvailableToPromiseChanged', 'StockReceived', 'StockAdjusted', 'LowStockAlerted']) expect(mayConcernAnOrder(t)).toBe(false);
  });

  it('keeps every type that names an order, and types it does not know', () => {
    for (const t of ['OrderPlaced', 'OrderPaid', 'StockReserved', 'StockWentNegative', 'ShipmentShipped', 'ApprovalStepStarted', 'OrderSlaTurnedRed', 'SomeFutureEvent']) expect(mayConcernAnOrder(t)).toBe(true);
  });

  it('keeps every type a rule or the order facts react to', () => {
    const config = loadNotificationConfig();
    for (const t of [...FACT_EVENT_TYPES, ...config.rules.rules.map((r) => r.on)]) expect(mayConcernAnOrder(t)).toBe(true);
  });
});
