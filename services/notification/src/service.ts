import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'notification',
  httpPort: 3005,
  grpcPort: 50055,
  grpcPackages: [{ package: 'flowline.notification.v1', protoPath: 'notification/v1/notification.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.notification.v1.NotificationService';
