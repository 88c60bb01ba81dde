import { wecomFake } from '../../services/notification/test/fakes/robots.fake-server';
import type { StartedFake } from './fake';

/** WeCom group robot for `npm start`; inbox at http://127.0.0.1:4124/__inbox. */
export default async function start(): Promise<StartedFake> {
  const fake = await wecomFake({ keys: ['demo-warehouse-key'] }).start(4124);
  return {
    name: 'wecom',
    env: { WECOM_ROBOT_URL: `${fake.url}/cgi-bin/webhook/send?key=demo-warehouse-key`, WECOM_INBOX_URL: `${fake.url}/__inbox` },
    close: () => fake.close(),
  };
}
