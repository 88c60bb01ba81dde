import { describe, expect, it } from 'vitest';
import { purchaseSuggestion } from '../domain/purchase';
import { normalQuantile } from './mstl-model';

describe('purchase suggestion', () => {
  // Hand calculation: lead time 7 days of a forecast 10,10,10,10,10,20,20 -> demand 90;
  // z(0.95) = 1.6449 (one-sided), daily error 4 -> safety 1.6449 x 4 x sqrt(7) = 17.41;
  // need 90 + 17.41 - 30 available - 24 inbound = 53.41 -> 5 packs of 12 = 60.
  const forecast = [10, 10, 10, 10, 10, 20, 20, 10, 10, 10, 10, 10, 20, 20];

  it('is demand over lead time + safety stock - available - inbound, rounded up to the pack size', () => {
    const s = purchaseSuggestion({ sku: 'TEA-1', warehouseId: 'WH-HZ', forecast, dailyError: 4, leadTimeDays: 7, serviceLevel: 0.95, available: 30, inbound: 24, packSize: 12 }, normalQuantile);
    expect(s.demandOverLeadTime).toBe(90);
    expect(s.safetyStock).toBeCloseTo(17.41, 2);
    expect(s.need).toBeCloseTo(53.41, 2);
    expect(s).toMatchObject({ packs: 5, suggestedQuantity: 60 });
  });

  it('suggests nothing when stock and inbound cover the lead time', () => {
    const s = purchaseSuggestion({ sku: 'TEA-1', warehouseId: 'WH-HZ', forecast, dailyError: 4, leadTimeDays: 7, serviceLevel: 0.95, available: 100, inbound: 20, packSize: 12 }, normalQuantile);
    expect(s).toMatchObject({ packs: 0, suggestedQuantity: 0 });
  });

  it('extends a lead time past the forecast horizon at the forecast mean per day', () => {
    const s = purchaseSuggestion({ sku: 'TEA-1', warehouseId: 'WH-HZ', forecast, dailyError: 0, leadTimeDays: 21, serviceLevel: 0.5, available: 0, inbound: 0, packSize: 1 }, normalQuantile);
    // 14 days sum to 180 (mean 12.857...), 7 more days at that mean: 270.
    expect(s.demandOverLeadTime).toBeCloseTo(270, 9);
    expect(s.suggestedQuantity).toBe(270);
  });
});
