import { webhookReceiverFake } from '../../services/notification/test/fakes/robots.fake-server';
import type { StartedFake } from './fake';

/** A receiver of Flowline's signed webhooks (HMAC-SHA256 checked) for `npm start`; inbox at http://127.0.0.1:4125/__inbox. */
export default async function start(): Promise<StartedFake> {
  const fake = await webhookReceiverFake({ secret: 'demo-webhook-secret' }).start(4125);
  return {
    name: 'webhook',
    env: { WEBHOOK_URL: `${fake.url}/hook`, WEBHOOK_URL_SECRET: 'demo-webhook-secret', WEBHOOK_INBOX_URL: `${fake.url}/__inbox` },
    close: () => fake.close(),
  };
}
