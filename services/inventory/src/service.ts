import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'inventory',
  httpPort: 3002,
  grpcPort: 50052,
  grpcPackages: [{ package: 'flowline.inventory.v1', protoPath: 'inventory/v1/inventory.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.inventory.v1.InventoryService';
