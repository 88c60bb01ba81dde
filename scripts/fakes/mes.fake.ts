import { startMesFake } from '../../services/fulfillment/test/fakes/mes.fake-server';
import { DemoTokenRefused, fetchDemoToken } from '../../libs/testing/src/demo-token';
import type { StartedFake } from './fake';

/** Demo secret shared by the fake MES and fulfillment (MES_CALLBACK_SECRET); a real one comes from the k8s Secret. */
const DEMO_MES_SECRET = `whsec_${Buffer.from('flowline-demo-mes-callback-secret').toString('base64')}`;

/**
 * Webhook subscriptions are an admin API (issue #16): the fake MES, set up by the seller's admin,
 * uses the demo admin's token from the local issuer `npm start` runs (FLOWLINE_LOCAL_ISSUER).
 */
async function localIssuerAdminToken(): Promise<string | undefined> {
  const issuer = process.env.FLOWLINE_LOCAL_ISSUER;
  if (!issuer) return undefined;
  try {
    return `Bearer ${(await fetchDemoToken(issuer, 'admin')).accessToken}`;
  } catch (e) {
    if (e instanceof DemoTokenRefused) return undefined;
    throw e;
  }
}

/**
 * A factory MES for `npm start`: subscribes to fulfillment's `order.approved` / `order.ready_to_ship`
 * webhooks (signatures verified), and for an order whose parcel waits for production (the demo's
 * engraved teapot POT-YIXING-CUSTOM, once approved in the console and paid) reports the work
 * order back, signed: created -> in production 25/50/75 % -> completed over about a minute; the
 * parcel then joins the pick list. Inbox at http://127.0.0.1:4104/__inbox.
 */
export default async function start(): Promise<StartedFake> {
  const fake = await startMesFake({
    port: 4104,
    fulfillmentUrl: process.env.FULFILLMENT_URL ?? 'http://127.0.0.1:3004',
    callbackSecret: DEMO_MES_SECRET,
    stepMs: 12_000,
    authorization: localIssuerAdminToken,
  });
  return {
    name: 'mes',
    env: { MES_CALLBACK_SECRET: DEMO_MES_SECRET, FULFILLMENT_MADE_TO_ORDER_SKUS: 'POT-YIXING-CUSTOM', MES_INBOX_URL: `${fake.url}/__inbox` },
    close: () => fake.close(),
  };
}
