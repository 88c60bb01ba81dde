import type { GrpcPackage } from '@flowline/platform';

/**
 * Who this service is: name, fixed ports (HTTP_PORT / GRPC_PORT override them) and the proto
 * packages it serves. Type-only imports, so src/instrument.ts can read the name before anything loads.
 */
export const SERVICE = {
  name: 'channel-gateway',
  httpPort: 3007,
  grpcPort: 50057,
  grpcPackages: [{ package: 'flowline.channels.v1', protoPath: 'channels/v1/channels.proto' }] satisfies GrpcPackage[],
} as const;

/** Fully qualified gRPC service name, as listed by reflection and the health service. */
export const GRPC_SERVICE = 'flowline.channels.v1.ChannelGatewayService';
