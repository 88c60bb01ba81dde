import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'tracking',
  httpPort: 3006,
  grpcPort: 50056,
  grpcPackages: [{ package: 'flowline.tracking.v1', protoPath: 'tracking/v1/tracking.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.tracking.v1.TrackingService';
