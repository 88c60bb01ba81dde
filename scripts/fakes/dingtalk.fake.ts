import { dingtalkFake } from '../../services/notification/test/fakes/robots.fake-server';
import type { StartedFake } from './fake';

/** DingTalk custom robot (加签 checked, 20/min) for `npm start`; inbox at http://127.0.0.1:4123/__inbox. */
export default async function start(): Promise<StartedFake> {
  const fake = await dingtalkFake({ robots: { 'demo-approvals-token': 'SECdemo-approvals' } }).start(4123);
  return {
    name: 'dingtalk',
    env: {
      DINGTALK_ROBOT_URL: `${fake.url}/robot/send?access_token=demo-approvals-token`,
      DINGTALK_ROBOT_SECRET: 'SECdemo-approvals',
      DINGTALK_INBOX_URL: `${fake.url}/__inbox`,
    },
    close: () => fake.close(),
  };
}
