import { describe, expect, it } from 'vitest';
import { fromTopTrade } from '../connectors/api-mapping';
import { placeOrderProblems, recipientProtection, toSubmission } from './submission';

const trade = (over: Record<string, unknown>) =>
  fromTopTrade(
    {
      tid_str: '4012345678901234567',
      status: 'WAIT_SELLER_SEND_GOODS',
      created: '2025-11-25 15:59:00',
      pay_time: '2025-11-25 16:00:00',
      payment: '128.00',
      post_fee: '0.00',
      receiver_name: '张三',
      receiver_mobile: '13812345678',
      receiver_state: '浙江省',
      receiver_city: '杭州市',
      receiver_district: '西湖区',
      receiver_address: '文三路100号',
      orders: { order: [{ oid_str: '4012345678901234568', outer_sku_id: 'TEA-1', title: '茶', num: 1, price: '128.00' }] },
      ...over,
    } as Parameters<typeof fromTopTrade>[0],
    'tb-1',
  );

describe('recipientProtection on the submission (order-intake field, no placeholders)', () => {
  it('a clear recipient carries no protection and the values as given', () => {
    const sub = toSubmission(trade({}));
    expect(sub.recipientProtection).toBeUndefined();
    expect(sub.shippingAddress).toMatchObject({ recipient: '张三', phone: '13812345678', street: '文三路100号' });
  });

  it("a TOP trade under privacy protection: masked name / phone / street kept as masked text, the trade's oaid passed on", () => {
    const d = trade({ receiver_name: '张*', receiver_mobile: '138****5678', receiver_address: '文三路****', oaid: '1Q9lSV4xXWcqF7dWQrMibPhIq5t' });
    expect(recipientProtection(d)).toEqual({ masked: ['name', 'phone', 'address'], encrypted: [], withheld: [], oaid: '1Q9lSV4xXWcqF7dWQrMibPhIq5t' });
    const sub = toSubmission(d);
    expect(sub.shippingAddress).toMatchObject({ recipient: '张*', phone: '138****5678', street: '文三路****' });
    expect(sub.customer.name).toBeUndefined();
    expect(sub.customer.phone).toBeUndefined();
  });

  it('ciphertext is never sent: encrypted fields go empty, listed as encrypted', () => {
    const sub = toSubmission(trade({ receiver_name: '#c2VjcmV0#', receiver_mobile: '$MTM4MDAwMDAwMDA=$' }));
    expect(sub.recipientProtection).toEqual({ masked: [], encrypted: ['name', 'phone'], withheld: [] });
    expect(sub.shippingAddress).toMatchObject({ recipient: '', phone: '' });
    expect(JSON.stringify(sub)).not.toMatch(/c2VjcmV0|MTM4/);
  });
});

describe("placeOrderProblems: what order-intake's PlaceOrder refuses, found before the call", () => {
  const now = '2025-11-26T00:00:00.000Z';
  const fields = (over: Record<string, unknown>, edit?: (s: ReturnType<typeof toSubmission>) => void) => {
    const sub = toSubmission(trade(over));
    edit?.(sub);
    return placeOrderProblems(sub, now).map((p) => p.field);
  };

  it('a clear, ordinary order has none; masked fields are not held to the clear-text bounds', () => {
    expect(fields({})).toEqual([]);
    expect(fields({ receiver_name: '张*', receiver_mobile: '138****5678', receiver_address: '文三路****' })).toEqual([]);
  });

  it('names each bound: phone not digits, quantity above 100000, title over 200, placed days ahead, NUL in a message, deposit not below the total', () => {
    expect(fields({ receiver_mobile: '(0571)88886666' })).toEqual(['shippingAddress.phone']);
    expect(fields({}, (s) => void (s.lines[0].quantity = 100_001))).toEqual(['lines[0].quantity']);
    expect(fields({}, (s) => void (s.lines[0].title = '茶'.repeat(201)))).toEqual(['lines[0].title']);
    expect(fields({}, (s) => void (s.placedAt = '2025-11-28T00:00:00.000Z'))).toEqual(['placedAt']);
    expect(fields({}, (s) => void (s.buyerMessage = 'a\u0000b'))).toEqual(['buyerMessage']);
    expect(fields({}, (s) => void (s.presale = { depositAmount: 12800, balanceDueBy: now, shipNotBefore: now }))).toEqual(['presale.depositAmount']);
  });
});
