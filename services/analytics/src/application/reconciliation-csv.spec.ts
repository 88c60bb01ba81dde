import { describe, expect, it } from 'vitest';
import { ReconciliationService, type DailyReconciliation } from './reconciliation.service';

describe('the daily reconciliation CSV', () => {
  it('writes text a spreadsheet would run as a formula with a leading apostrophe (CSV injection), numbers as they are', () => {
    const report = {
      day: '2026-12-05',
      platform: 'alipay',
      orders: [{ orderId: '01ORDER', channelOrderId: '=HYPERLINK("http://x","y")', sold: 12800, settled: 12800, refunded: 0, refundSettled: 0, fees: -77, expectedFee: 77, reconciled: true }],
      discrepancies: [{ code: 'UNKNOWN_ORDER', orderId: null, channelOrderId: '@SUM(1+1)', expected: 0, actual: 500, difference: 500 }],
    } as unknown as DailyReconciliation;
    const csv = ReconciliationService.csv(report);
    expect(csv).toContain(`'=HYPERLINK(""http://x"",""y"")`);
    expect(csv).toContain(`'@SUM(1+1)`);
    expect(csv).toContain(',-77,');
    expect(csv).not.toMatch(/,=HYPERLINK/);
  });
});
