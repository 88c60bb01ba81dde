import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'approval',
  httpPort: 3003,
  grpcPort: 50053,
  grpcPackages: [{ package: 'flowline.approval.v1', protoPath: 'approval/v1/approval.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.approval.v1.ApprovalService';
