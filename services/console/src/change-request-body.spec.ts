import { describe, expect, it } from 'vitest';
import { changeRequestBody, looksMasked } from '../web/src/change-request-body';
import { ROLE_ACCESS } from '../web/src/roles';

/** An order as the console sees it: one line, the address masked beyond the district. */
const order = { orderId: 'O-1', lines: [{ lineId: 'L1', quantity: 1 }, { lineId: 'L2', quantity: 2 }] };

describe("the change-request form's body (订单变更)", () => {
  it('a quantity-only change sends no address at all: the masked street is never a value to send', () => {
    const body = changeRequestBody(order, { quantities: { L1: 2, L2: 2 }, changeAddress: false, province: '浙江省', city: '杭州市', district: '西湖区', street: '', note: '客户加购一件' }, { mayOverride: false });
    expect(body).toEqual({ orderId: 'O-1', quantities: [{ lineId: 'L1', quantity: 2 }], note: '客户加购一件' });
  });

  it('a district change sends the street typed in clear as `street` (never the deprecated streetMasked), with detail and postcode; recipient and phone only when typed', () => {
    const body = changeRequestBody(order, { changeAddress: true, province: '浙江省', city: '杭州市', district: '拱墅区', street: ' 湖墅南路 88 号 ', detail: '3 幢 1201', postalCode: '310005', recipient: '', phone: '' }, { mayOverride: false });
    expect(body).toEqual({ orderId: 'O-1', shippingAddress: { province: '浙江省', city: '杭州市', district: '拱墅区', street: '湖墅南路 88 号', detail: '3 幢 1201', postalCode: '310005' } });
    expect(JSON.stringify(body)).not.toContain('streetMasked');
    const withPerson = changeRequestBody(order, { changeAddress: true, province: '浙江省', city: '杭州市', district: '拱墅区', street: '湖墅南路 88 号', recipient: '韩梅梅', phone: '13900001111' }, { mayOverride: false });
    expect(withPerson.shippingAddress).toMatchObject({ recipient: '韩梅梅', phone: '13900001111' });
  });

  it('refuses to send a masked value or an address without a street', () => {
    expect(looksMasked('文三******')).toBe(true);
    expect(looksMasked('文三路 1 号')).toBe(false);
    const address = { changeAddress: true, province: '浙江省', city: '杭州市', district: '拱墅区' };
    expect(() => changeRequestBody(order, { ...address, street: '文三******' }, { mayOverride: false })).toThrow(/street is masked/);
    expect(() => changeRequestBody(order, { ...address, street: '湖墅南路 1 号', recipient: '张*' }, { mayOverride: false })).toThrow(/recipient is masked/);
    expect(() => changeRequestBody(order, { ...address, street: '  ' }, { mayOverride: false })).toThrow(/street/);
  });

  it("sends the override reason only for a user who may override the freeze (the general manager), and only when given", () => {
    const draft = { quantities: { L1: 3 }, overrideReason: ' 客户加急，仓库可拆包 ' };
    expect(changeRequestBody(order, draft, { mayOverride: true }).override).toEqual({ reason: '客户加急，仓库可拆包' });
    expect(changeRequestBody(order, draft, { mayOverride: false }).override).toBeUndefined();
    expect(changeRequestBody(order, { ...draft, overrideReason: '' }, { mayOverride: true }).override).toBeUndefined();
  });

  it('offers the freeze override to the general manager only: approval takes it from no other role (an admin token decides as admin)', () => {
    const offered = Object.entries(ROLE_ACCESS).filter(([, a]) => a.abilities.includes('order.override')).map(([r]) => r);
    expect(offered).toEqual(['general_manager']);
  });
});
