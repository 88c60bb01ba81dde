/**
 * Who this service is: the staff console and customer portal (a BFF that serves the built web app and
 * forwards /api/<service>/... to the services). No gRPC API and no database of its own: the gRPC
 * port is reserved in scripts/services.ts so every service has the same shape in deploy/ and k8s/.
 */
export const SERVICE = {
  name: 'console',
  httpPort: 3009,
  grpcPort: 50059,
} as const;
