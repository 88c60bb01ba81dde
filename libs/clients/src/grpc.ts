import { type CallOptions, type Client, type ClientUnaryCall, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { InventoryServiceClient } from './generated/grpc/inventory/v1/inventory';
import { OrderServiceClient } from './generated/grpc/orders/v1/orders';
import { TrackingServiceClient } from './generated/grpc/tracking/v1/tracking';

/**
 * Typed gRPC clients generated from proto/ by ts-proto (grpc-js clients with their codecs; see
 * proto/buf.gen.clients.yaml, `npm run proto:gen`). Message types per package:
 * `import { ordersGrpc } from '@flowline/clients'` -> `ordersGrpc.PlaceOrderRequest`.
 */
export * as analyticsGrpc from './generated/grpc/analytics/v1/analytics';
export * as approvalGrpc from './generated/grpc/approval/v1/approval';
export * as channelsGrpc from './generated/grpc/channels/v1/channels';
export * as commonGrpc from './generated/grpc/common/v1/common';
export * as fulfillmentGrpc from './generated/grpc/fulfillment/v1/fulfillment';
export * as inventoryGrpc from './generated/grpc/inventory/v1/inventory';
export * as notificationGrpc from './generated/grpc/notification/v1/notification';
export * as ordersGrpc from './generated/grpc/orders/v1/orders';
export * as trackingGrpc from './generated/grpc/tracking/v1/tracking';

export const orderServiceClient = (address: string) => new OrderServiceClient(address, credentials.createInsecure());
export const inventoryServiceClient = (address: string) => new InventoryServiceClient(address, credentials.createInsecure());
export const trackingServiceClient = (address: string) => new TrackingServiceClient(address, credentials.createInsecure());

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
/** The 4-argument overload every generated unary method has last (request, metadata, options, callback). */
type UnaryFn<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<Res>) => ClientUnaryCall;
type Unary<F> = F extends (request: infer Req, metadata: Metadata, options: Partial<CallOptions>, callback: Callback<infer Res>) => ClientUnaryCall ? { req: Req; res: Res } : never;
/** Names of a generated client's unary methods (`placeOrder`, `getOrder`, ...). */
export type UnaryName<C> = { [K in keyof C]: Unary<C[K]> extends never ? never : K }[keyof C] & string;
/** Request / response message types of a generated client's method. */
export type RequestOf<F> = Unary<F>['req'];
export type ResponseOf<F> = Unary<F>['res'];

/** Calls a unary RPC and resolves with its (typed) response, or rejects with the ServiceError. */
export function rpc<C extends Client, K extends UnaryName<C>>(
  client: C,
  method: K,
  request: RequestOf<C[K]>,
  options: { metadata?: Metadata; deadlineMs?: number } = {},
): Promise<ResponseOf<C[K]>> {
  const fn = client[method] as unknown as UnaryFn<RequestOf<C[K]>, ResponseOf<C[K]>>;
  return new Promise((resolve, reject) => {
    fn.call(client, request, options.metadata ?? new Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 15_000) }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
