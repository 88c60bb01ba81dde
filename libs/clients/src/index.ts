import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type * as analyticsApi from './generated/openapi/analytics';
import type * as approvalApi from './generated/openapi/approval';
import type * as channelGatewayApi from './generated/openapi/channel-gateway';
import type * as fulfillmentApi from './generated/openapi/fulfillment';
import type * as inventoryApi from './generated/openapi/inventory';
import type * as notificationApi from './generated/openapi/notification';
import type * as orderIntakeApi from './generated/openapi/order-intake';
import type * as trackingApi from './generated/openapi/tracking';

/**
 * Typed REST clients of every Flowline service, generated, not hand-written: the types come from
 * docs/openapi/<service>.json by openapi-typescript (scripts/contracts/openapi.ts, `npm run
 * contracts:gen`), the calls go through openapi-fetch. A contract change that breaks a caller breaks
 * its build. Errors come back typed as RFC 9457 problem details (`error.code`, `error.errors`).
 *
 *   const intake = orderIntakeClient('http://127.0.0.1:3001');
 *   const { data, error, response } = await intake.POST('/api/orders', { body, params: { header: { 'Idempotency-Key': key } } });
 */
export type { analyticsApi, approvalApi, channelGatewayApi, fulfillmentApi, inventoryApi, notificationApi, orderIntakeApi, trackingApi };

type Options = Omit<ClientOptions, 'baseUrl'>;
const client =
  <Paths extends object>() =>
  (baseUrl: string, options: Options = {}): Client<Paths> =>
    createClient<Paths>({ baseUrl, ...options });

export type OrderIntakeClient = Client<orderIntakeApi.paths>;
export type InventoryClient = Client<inventoryApi.paths>;
export type TrackingClient = Client<trackingApi.paths>;
export type ApprovalClient = Client<approvalApi.paths>;
export type FulfillmentClient = Client<fulfillmentApi.paths>;
export type NotificationClient = Client<notificationApi.paths>;
export type ChannelGatewayClient = Client<channelGatewayApi.paths>;
export type AnalyticsClient = Client<analyticsApi.paths>;

export const orderIntakeClient = client<orderIntakeApi.paths>();
export const inventoryClient = client<inventoryApi.paths>();
export const trackingClient = client<trackingApi.paths>();
export const approvalClient = client<approvalApi.paths>();
export const fulfillmentClient = client<fulfillmentApi.paths>();
export const notificationClient = client<notificationApi.paths>();
export const channelGatewayClient = client<channelGatewayApi.paths>();
export const analyticsClient = client<analyticsApi.paths>();

/** The body a Flowline service sends with every error (RFC 9457 problem details). */
export type Problem = orderIntakeApi.components['schemas']['DomainErrorDto'];
export * from './grpc';
