import { startKuaidi100Fake } from '../../services/fulfillment/test/fakes/kuaidi100.fake-server';
import type { StartedFake } from './fake';

/** Kuaidi100 tracking subscriptions for `npm start`; pushes go to fulfillment's callback. */
export default async function start(): Promise<StartedFake> {
  const fake = await startKuaidi100Fake({ port: 4102 });
  return {
    name: 'kuaidi100',
    env: {
      KUAIDI100_URL: fake.url,
      KUAIDI100_KEY: fake.key,
      KUAIDI100_SALT: 'kuaidi100-demo-salt',
      KUAIDI100_CALLBACK_URL: 'http://127.0.0.1:3004/api/fulfillment/callbacks/kuaidi100',
    },
    close: () => fake.close(),
  };
}
