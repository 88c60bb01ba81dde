/*
 * Fake Taobao TOP, JD, Pinduoduo and Douyin open APIs for `npm start` (channel intake, ports 4141-4159):
 * the same server the channel-gateway e2e test uses (services/channel-gateway/test/fakes/platforms.ts),
 * checking signatures and windows as the platforms do, seeded with a few paid orders per shop.
 */
import { startFakePlatforms } from '../../services/channel-gateway/test/fakes/platforms';
import type { StartedFake } from './fake';

export default async function start(): Promise<StartedFake> {
  const fake = await startFakePlatforms({ port: 4141 });
  const now = Date.now();
  const bj = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
  for (let i = 0; i < 3; i++) {
    const m = now - (30 + i * 10) * 60_000;
    const tid = `40300000000000000${i}`;
    fake.top.set(tid, {
      modified: new Date(m).toISOString(),
      trade: {
        tid_str: tid, status: 'WAIT_SELLER_SEND_GOODS', created: bj(m), pay_time: bj(m), payment: '128.00', post_fee: '0.00', buyer_nick: `tb_demo_${i}`,
        receiver_name: '张三', receiver_mobile: '13812345678', receiver_state: '浙江省', receiver_city: '杭州市', receiver_district: '西湖区', receiver_address: `文三路${i + 1}号`,
        orders: { order: [{ oid_str: `${tid}1`, outer_sku_id: 'TEA-LJ-250', title: '明前龙井 250g', num: 1, price: '128.00' }] },
      },
    });
  }
  // The platform item id of each demo SKU (TOP num_iid, PDD goods_id, JD skuId) for stock push-back.
  const listings = { 'TEA-LJ-250': '600000000001', 'TEA-PUER-357': '600000000002', 'TEA-TIEGUANYIN-250': '600000000003', 'TEA-JASMINE-100': '600000000004' };
  const shops = [
    { platform: 'taobao', shopId: 'tb-demo-shop', ...fake.creds.taobao, accessToken: 'demo', baseUrl: fake.url, listings },
    { platform: 'pinduoduo', shopId: 'pdd-demo-shop', ...fake.creds.pinduoduo, accessToken: 'demo', baseUrl: fake.url, listings },
    { platform: 'douyin', shopId: 'dy-demo-shop', ...fake.creds.douyin, accessToken: 'demo', baseUrl: fake.url },
    { platform: 'jd', shopId: 'jd-demo-shop', ...fake.creds.jd, accessToken: 'demo', baseUrl: fake.url, listings },
  ];
  // The demo seller's shop names as its exports write them (店铺名称) -> the shop ids its staff are
  // scoped by (cs-jd sees jd-self-run): imported files land in the shops the seed's orders use.
  const importShops = [
    { channel: 'tmall', shopId: 'tmall-flagship', names: ['茗香天猫店'] },
    { channel: 'taobao', shopId: 'tmall-flagship', names: ['茗香旗舰店'] },
    { channel: 'jd', shopId: 'jd-self-run', names: ['京东茗香自营'] },
    { channel: 'pinduoduo', shopId: 'pdd-snacks', names: ['拼多多茗香店'] },
    { channel: 'douyin', shopId: 'douyin-live', names: ['抖店茗香'] },
  ];
  return { name: 'platforms', env: { CHANNEL_SHOPS: JSON.stringify(shops), CHANNEL_PLATFORMS_URL: fake.url, CHANNEL_IMPORT_SHOPS: JSON.stringify(importShops) }, close: () => fake.close() };
}
