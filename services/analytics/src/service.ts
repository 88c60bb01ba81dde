import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'analytics',
  httpPort: 3008,
  grpcPort: 50058,
  grpcPackages: [{ package: 'flowline.analytics.v1', protoPath: 'analytics/v1/analytics.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.analytics.v1.AnalyticsService';
