import { describe, expect, it } from 'vitest';
import { toSubmission } from '../import/submission';
import { fromApiPayload, fromJdOrder, JD_ORDER_FIELDS, jdDesignatedCarrier, type JdApiOrder } from './api-mapping';

/**
 * Issue #12 review: a JD order pulled by API (jingdong.pop.order.search / .get) designates JD
 * logistics the way an export's 配送方式 京东配送 / 京配 does: JD's `idSopShipmenttype` 68 (京配) or
 * 69 (京配自提) -> designatedCarrier JD; a seller-shipped order (商家自配送: absent or another value)
 * designates nothing and goes through fulfillment's carrier rules.
 */
const order = (over: Partial<JdApiOrder> = {}): JdApiOrder => ({
  orderId: '300099990101',
  orderState: 'WAIT_SELLER_STOCK_OUT',
  orderStartTime: '2026-12-01 10:00:00',
  paymentConfirmTime: '2026-12-01 10:01:00',
  orderPayment: '128.00',
  freightPrice: '0.00',
  pin: 'jd_pin_1',
  consigneeInfo: { fullname: '张三', mobile: '13800001111', province: '北京', city: '北京市', county: '朝阳区', fullAddress: '建国路88号' },
  itemInfoList: [{ skuId: '100012345678', outerSkuId: 'TEA-LJ-250', skuName: '明前龙井 250g', itemTotal: '1', jdPrice: '128.00' }],
  ...over,
});

describe('JD API order: delivery method (idSopShipmenttype) -> designatedCarrier', () => {
  it('京配 (68) and 京配自提 (69) designate JD, as a number or a string; on the draft and the submission to order-intake', () => {
    for (const v of [68, '68', 69, '69', ' 68 ']) expect(jdDesignatedCarrier(v), String(v)).toBe('JD');
    const d = fromJdOrder(order({ idSopShipmenttype: 68 }), 'jd-shop');
    expect(d.designatedCarrier).toBe('JD');
    expect(toSubmission(d).designatedCarrier).toBe('JD');
    expect(fromJdOrder(order({ idSopShipmenttype: '69' }), 'jd-shop').designatedCarrier).toBe('JD');
  });

  it('a seller-shipped order (商家自配送: field absent, empty or another value) designates nothing', () => {
    for (const v of [undefined, null, '', 0, 67, '70', 'abc']) expect(jdDesignatedCarrier(v), String(v)).toBeUndefined();
    const d = fromJdOrder(order(), 'jd-shop');
    expect(d).not.toHaveProperty('designatedCarrier');
    expect(toSubmission(d)).not.toHaveProperty('designatedCarrier');
    expect(fromJdOrder(order({ idSopShipmenttype: 67 }), 'jd-shop')).not.toHaveProperty('designatedCarrier');
  });

  it('a quarantined payload fixed by a person maps the same way (fromApiPayload)', () => {
    expect(fromApiPayload({ platform: 'jd', shopId: 'jd-shop' }, order({ idSopShipmenttype: '68' })).designatedCarrier).toBe('JD');
  });

  it('the pull asks JD for the field (optional_fields: JD returns only the fields named), and for every field the mapping reads', () => {
    expect(JD_ORDER_FIELDS).toContain('idSopShipmenttype');
    // deliveryType is JD's delivery *date* preference (工作日 / 双休日 / 任意时间), not the carrier.
    expect(JD_ORDER_FIELDS).not.toContain('deliveryType');
    const read = Object.keys(order({ idSopShipmenttype: 68, sellerDiscount: '0.00', orderRemark: '尽快发货' })).sort();
    expect([...JD_ORDER_FIELDS].sort()).toEqual(read);
  });
});
