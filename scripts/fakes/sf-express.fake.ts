import { startSfExpressFake } from '../../services/fulfillment/test/fakes/sf-express.fake-server';
import type { StartedFake } from './fake';

/** SF Express open platform (waybills; signed route pushes on demand) for `npm start`. */
export default async function start(): Promise<StartedFake> {
  const fake = await startSfExpressFake({ port: 4101 });
  return {
    name: 'sf-express',
    env: { SF_EXPRESS_URL: fake.url, SF_EXPRESS_PARTNER_ID: fake.partnerId, SF_EXPRESS_CHECK_WORD: fake.checkWord },
    close: () => fake.close(),
  };
}
