import { wechatFake } from '../../services/notification/test/fakes/wechat.fake-server';
import type { StartedFake } from './fake';

/** WeChat official account + mini program message APIs for `npm start`; inbox at http://127.0.0.1:4122/__inbox. */
export default async function start(): Promise<StartedFake> {
  const fake = await wechatFake({ apps: { wx_demo_official: 'demo-oa-secret', wx_demo_mini: 'demo-mp-secret' } }).start(4122);
  // The demo buyer accepted a few one-time subscribe messages; after they are used up: 43101.
  fake.subscribe('oDemoMini0001', 'SUB_ORDER_CHANGE', 5);
  return {
    name: 'wechat',
    env: {
      WECHAT_API_URL: fake.url,
      WECHAT_OA_APPID: 'wx_demo_official',
      WECHAT_OA_SECRET: 'demo-oa-secret',
      WECHAT_MP_APPID: 'wx_demo_mini',
      WECHAT_MP_SECRET: 'demo-mp-secret',
      WECHAT_INBOX_URL: `${fake.url}/__inbox`,
    },
    close: () => fake.close(),
  };
}
