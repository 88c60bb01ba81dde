import { describe, expect, it } from 'vitest';
import { ProfileRegistry } from '../../infra/profile-registry';
import { fromPddOrder, type PddApiOrder } from '../connectors/api-mapping';
import { planSync } from './order-sync.policy';

const pdd = (over: Partial<PddApiOrder>): PddApiOrder => ({
  order_sn: '251205-000000000009', order_status: 1, refund_status: 1, created_time: '2025-12-05 10:00:00', confirm_time: '2025-12-05 10:00:05',
  goods_amount: 25.6, pay_amount: 25.6, postage: 0, receiver_name: '~AgAAAAAAAA==~', receiver_phone: '~AgAAAAAAAB==~', province: '四川省', city: '成都市', town: '武侯区', address: '~AgAAAAAAAC==~',
  item_list: [{ goods_name: '茶包', goods_count: 1, goods_price: 25.6, outer_id: 'TEA-BAG' }],
  ...over,
});

describe('group-buy (拼团): the order enters the flow only when its group forms', () => {
  it('PDD API group_status 0 (拼团中) waits, 2 (团失败) never enters, 1 (已成团) is placed and paid', () => {
    expect(fromPddOrder(pdd({ group_status: 0 }), 's').state).toBe('group_forming');
    expect(planSync(fromPddOrder(pdd({ group_status: 0 }), 's'), new Set())).toEqual([]);
    expect(planSync(fromPddOrder(pdd({ group_status: 2, refund_status: 4 }), 's'), new Set())).toEqual([]);
    expect(planSync(fromPddOrder(pdd({ group_status: 1 }), 's'), new Set()).map((a) => a.step)).toEqual(['placed', 'paid']);
    expect(planSync(fromPddOrder(pdd({}), 's'), new Set()).map((a) => a.step)).toEqual(['placed', 'paid']);
  });

  it('the PDD export profile (v2) maps 待成团 / 拼团中 to waiting and 未成团 to a failed group', () => {
    const profile = new ProfileRegistry().get('pinduoduo');
    expect(profile.version).toBe(3); // v3: current status wording and placed-time fallbacks
    expect([profile.statuses['待成团'], profile.statuses['拼团中'], profile.statuses['未成团'], profile.statuses['待发货']]).toEqual(['group_forming', 'group_forming', 'group_failed', 'paid']);
  });
});
