import { describe, expect, it } from 'vitest';
import { atpByChannel, atpChanges, channelAtp, channelRuleProblems, lowStockCrossed } from './availability.policy';
import { skuNotifications } from './stock-level.policy';

describe('available-to-promise per channel', () => {
  it('holds back a per-channel safety stock', () => {
    expect(channelAtp(10, { channel: 'tmall', safetyStock: 3 })).toBe(7);
    expect(channelAtp(2, { channel: 'tmall', safetyStock: 3 })).toBe(0);
  });

  it('gives a channel its allocation share, rounded down', () => {
    expect(channelAtp(10, { channel: 'jd', sharePercent: 30 })).toBe(3);
    expect(channelAtp(100, { channel: 'jd', sharePercent: 29 })).toBe(29);
    expect(channelAtp(7, { channel: 'jd', sharePercent: 50, safetyStock: 1 })).toBe(2);
  });

  it('promises everything when a channel has no rule beyond its name', () => {
    expect(atpByChannel(12, [{ channel: 'web' }, { channel: 'douyin', safetyStock: 2 }])).toEqual({ web: 12, douyin: 10 });
  });

  it('announces only channels whose ATP moved', () => {
    expect(atpChanges({ web: 12, douyin: 10 }, { web: 11, douyin: 10, jd: 0 })).toEqual([
      { channel: 'web', atp: 11 },
      { channel: 'jd', atp: 0 },
    ]);
  });

  it('explains bad channel rules', () => {
    expect(channelRuleProblems([{ channel: 'jd', sharePercent: 120 }, { channel: 'jd', safetyStock: -1 }])).toEqual([
      'channel jd: sharePercent must be an integer from 0 to 100',
      'channel jd appears twice',
      'channel jd: safetyStock must be an integer >= 0',
    ]);
  });
});

describe('low-stock alert', () => {
  it('fires once when available crosses below the threshold', () => {
    expect(lowStockCrossed(10, 4, 5)).toBe(true);
    expect(lowStockCrossed(4, 3, 5)).toBe(false);
    expect(lowStockCrossed(undefined, 3, 5)).toBe(true);
    expect(lowStockCrossed(10, 5, 5)).toBe(false);
  });

  it('never fires without a threshold', () => {
    expect(lowStockCrossed(10, 0, undefined)).toBe(false);
    expect(lowStockCrossed(10, 0, 0)).toBe(false);
  });
});

describe('notifications after a change', () => {
  const lv = (onHand: number, reserved: number) => ({ onHand, reserved, available: onHand - reserved, backordered: 0 });

  it('announces changed levels, moved ATP per channel, and a low-stock crossing over all warehouses', () => {
    const n = skuNotifications({
      sku: 'TEA',
      warehouses: [
        { warehouseId: 'WH-SH', before: lv(10, 2), after: lv(10, 8) },
        { warehouseId: 'WH-GZ', after: lv(3, 0) },
      ],
      rules: { channels: [{ channel: 'tmall', safetyStock: 2 }, { channel: 'jd', sharePercent: 50 }], lowStockThreshold: 6 },
      lastPublishedAtp: { tmall: 9, jd: 5 },
    });
    expect(n).toEqual({
      levels: [{ sku: 'TEA', warehouseId: 'WH-SH', onHand: 10, reserved: 8, available: 2 }],
      atp: [{ sku: 'TEA', channel: 'tmall', atp: 3 }, { sku: 'TEA', channel: 'jd', atp: 2 }],
      lowStock: { sku: 'TEA', available: 5, threshold: 6 },
      totalAvailable: 5,
    });
  });

  it('is silent when nothing moved', () => {
    const n = skuNotifications({ sku: 'TEA', warehouses: [{ warehouseId: 'WH-SH', before: lv(5, 0), after: lv(5, 0) }], rules: { channels: [{ channel: 'web' }] }, lastPublishedAtp: { web: 5 } });
    expect(n).toEqual({ levels: [], atp: [], totalAvailable: 5 });
  });
});
