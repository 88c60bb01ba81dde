import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'order-intake',
  httpPort: 3001,
  grpcPort: 50051,
  grpcPackages: [{ package: 'flowline.orders.v1', protoPath: 'orders/v1/orders.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.orders.v1.OrderService';
