import { startCainiaoFake } from '../../services/fulfillment/test/fakes/cainiao.fake-server';
import type { StartedFake } from './fake';

/** The TOP gateway for Cainiao e-waybills (cainiao.waybill.ii.get) for `npm start`. */
export default async function start(): Promise<StartedFake> {
  const fake = await startCainiaoFake({ port: 4103 });
  return {
    name: 'cainiao',
    env: {
      CAINIAO_GATEWAY_URL: `${fake.url}/router/rest`,
      CAINIAO_APP_KEY: fake.appKey,
      CAINIAO_APP_SECRET: fake.appSecret,
      CAINIAO_SESSION: fake.session,
      CAINIAO_CP_CODE: 'ZTO',
    },
    close: () => fake.close(),
  };
}
