import { aliyunSmsFake } from '../../services/notification/test/fakes/aliyun-sms.fake-server';
import type { StartedFake } from './fake';

/** Aliyun SMS SendSms (RPC v1 signature checked) for `npm start`; inbox at http://127.0.0.1:4121/__inbox. */
export default async function start(): Promise<StartedFake> {
  const fake = await aliyunSmsFake({ keys: { LTAI_flowline_demo: 'demo-sms-secret' } }).start(4121);
  return {
    name: 'aliyun-sms',
    env: {
      ALIYUN_SMS_URL: `${fake.url}/`,
      ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI_flowline_demo',
      ALIYUN_SMS_ACCESS_KEY_SECRET: 'demo-sms-secret',
      ALIYUN_SMS_INBOX_URL: `${fake.url}/__inbox`,
      // Demo only: customers without a registered contact get this one, so every message shows in the fakes.
      NOTIFICATION_DEMO_CONTACT: 'phone=13800000000,email=demo.buyer@flowline.example,wechat=oDemoBuyer0001,mini=oDemoMini0001',
    },
    close: () => fake.close(),
  };
}
