import { describe, expect, it } from 'vitest';
import { apiDraftOf } from './import.service';

const jd = {
  orderId: '300099990002', orderState: 'WAIT_SELLER_STOCK_OUT', orderStartTime: '2025-12-05 10:00:00', paymentConfirmTime: '2025-12-05 10:01:00', orderPayment: '118.00', freightPrice: '0.00', sellerDiscount: '10.00', pin: 'jd_pin_2',
  consigneeInfo: { fullname: '张*', mobile: '1******6198', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号****' },
  itemInfoList: [{ skuId: '100012345678', outerSkuId: 'TEA-LJ-250', skuName: '明前龙井 250g', itemTotal: '1', jdPrice: '128.00' }],
};
const table = (payload: string, shopId?: string) => ({
  headers: shopId ? ['payload', 'platform', 'shopId'] : ['payload'],
  rows: [{ rowNumber: 1, cells: shopId ? [payload, 'jd', shopId] : [payload] }],
});
const entry = { profileId: 'api-jd', channel: 'jd' as const };

describe('a quarantined API order mapped again from its (corrected) payload', () => {
  it('maps a readable payload with the platform mapping and the shop kept with the entry', () => {
    const r = apiDraftOf(entry, table(JSON.stringify(jd), 'jd-api-shop'));
    expect('draft' in r && [r.draft.channel, r.draft.channelOrderId, r.draft.shopId, r.draft.money.paid]).toEqual(['jd', '300099990002', 'jd-api-shop', 11800]);
  });

  it.each([
    ['an unreadable amount', JSON.stringify({ ...jd, orderPayment: 'n/a' }), 'jd-api-shop', /orderPayment/],
    ['not JSON', '{"orderId":', 'jd-api-shop', /^payload is not valid JSON$/],
    ['not the platform shape', '[1,2]', 'jd-api-shop', /payload: must be the platform order object/],
    ['a shape the mapping cannot read', '{"orderId":"1","orderState":"WAIT_SELLER_STOCK_OUT","orderStartTime":"2025-12-05 10:00:00"}', 'jd-api-shop', /not a readable jd order/],
    ['an entry without its shop (quarantined before shops were kept)', JSON.stringify(jd), undefined, /the next pull retries it/],
  ])('refuses %s with BAD_PAYLOAD in both languages', (_what, payload, shopId, en) => {
    const r = apiDraftOf(entry, table(payload, shopId));
    expect('reasons' in r).toBe(true);
    if (!('reasons' in r)) return;
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0].code).toBe('BAD_PAYLOAD');
    expect(r.reasons[0].en).toMatch(en);
    expect(r.reasons[0].zh.length).toBeGreaterThan(0);
  });
});
