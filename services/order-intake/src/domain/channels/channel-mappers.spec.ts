import { describe, expect, it } from 'vitest';
import { computeTotals, validateSubmission } from '../order.model';
import { beijingTimeToIso, fromDouyin, fromJd, fromPinduoduo, fromTaobao, yuanToFen } from './channel-mappers';

describe('money and time from channels', () => {
  it.each([
    ['128.00', 12800],
    ['128.5', 12850],
    ['0.01', 1],
    ['128', 12800],
    [19.9, 1990],
  ] as const)('yuan %s -> %i fen, without floating point', (yuan, fen) => {
    expect(yuanToFen(yuan, 'price')).toBe(fen);
  });

  it.each(['12.345', '-1.00', '1,000.00', 'abc', ''])('refuses "%s" naming the field', (yuan) => {
    expect(() => yuanToFen(yuan, 'orders[0].price')).toThrow(expect.objectContaining({ code: 'ORDER_INVALID', details: expect.objectContaining({ field: 'orders[0].price' }) }));
  });

  it('reads platform times as Beijing time', () => {
    expect(beijingTimeToIso('2025-11-25 15:59:00', 'created')).toBe('2025-11-25T07:59:00.000Z');
  });
});

describe('channel mappers', () => {
  it('Taobao: yuan strings, 19-digit tid kept as a string, sub-order ids as line ids', () => {
    const s = fromTaobao(
      {
        tid: '4012345678901234567',
        buyer_nick: 'tb小王',
        receiver_name: '王小明',
        receiver_mobile: '13700001111',
        receiver_state: '广东省',
        receiver_city: '深圳市',
        receiver_district: '南山区',
        receiver_town: '粤海街道',
        receiver_address: '科技园南区 8 栋 1203',
        receiver_zip: '518057',
        post_fee: '0.00',
        discount_fee: '5.00',
        created: '2025-11-25 20:15:03',
        orders: [{ oid: '4012345678901234568', outer_sku_id: 'TEA-LJ-250', title: '西湖龙井 250g', num: '2', price: '128.00', discount_fee: '10.00' }],
      },
      'tb-shop-1',
    );
    validateSubmission(s);
    expect(s.channelOrderId).toBe('4012345678901234567');
    expect(s.lines[0]).toEqual({ lineId: '4012345678901234568', sku: 'TEA-LJ-250', title: '西湖龙井 250g', quantity: 2, unitPrice: 12800, lineDiscount: 1000 });
    expect(computeTotals(s).grandTotal).toBe(25600 - 1000 - 500);
  });

  it('JD, Pinduoduo: yuan strings', () => {
    const jd = fromJd(
      {
        orderId: '301234567890',
        pin: 'jd_li',
        consigneeInfo: { fullname: '李雷', mobile: '13900002222', province: '北京', city: '北京市', county: '海淀区', fullAddress: '中关村大街 1 号' },
        freightPrice: '6.00',
        orderStartTime: '2025-11-25 09:00:00',
        itemInfoList: [{ skuId: '100012', outerSkuId: 'CUP-CELADON', skuName: '龙泉青瓷杯', itemTotal: '1', jdPrice: '199.00' }],
      },
      'jd-1',
    );
    validateSubmission(jd);
    expect(computeTotals(jd).grandTotal).toBe(19900 + 600);
    const pdd = fromPinduoduo(
      {
        order_sn: '251125-334455667788990',
        receiver_name: '韩梅梅',
        receiver_phone: '13500003333',
        province: '四川省',
        city: '成都市',
        town: '武侯区',
        address: '天府大道北段 1700 号',
        postage: '0',
        created_time: '2025-11-25 12:00:00',
        item_list: [{ goods_id: '9', outer_id: 'NOODLE-6', goods_name: '宜宾燃面 6 袋', goods_count: 3, goods_price: '19.9' }],
      },
      'pdd-1',
    );
    validateSubmission(pdd);
    expect(pdd.lines[0].unitPrice).toBe(1990);
  });

  it('Douyin: fen integers and unix seconds', () => {
    const d = fromDouyin(
      {
        order_id: '6920123456789012345',
        post_receiver: '赵敏',
        post_tel: '13600004444',
        post_addr: { province: { name: '上海市' }, city: { name: '上海市' }, town: { name: '浦东新区' }, detail: '世纪大道 100 号' },
        post_amount: 0,
        promotion_amount: 1000,
        create_time: 1764057600,
        sku_order_list: [{ sku_order_id: '6920123456789012346', code: 'MOONCAKE-BOX', product_name: '流心奶黄月饼礼盒', item_num: 2, origin_amount: 25800 }],
      },
      'dy-1',
    );
    validateSubmission(d);
    expect(d.lines[0]).toMatchObject({ quantity: 2, unitPrice: 12900 });
    expect(computeTotals(d).grandTotal).toBe(25800 - 1000);
    expect(d.placedAt).toBe('2025-11-25T08:00:00.000Z');
  });
});
