import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'fulfillment',
  httpPort: 3004,
  grpcPort: 50054,
  grpcPackages: [{ package: 'flowline.fulfillment.v1', protoPath: 'fulfillment/v1/fulfillment.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.fulfillment.v1.FulfillmentService';
