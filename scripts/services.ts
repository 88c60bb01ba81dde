/**
 * The six Flowline services and their ports: the one list scripts/start.ts, deploy/ and k8s/
 * agree on (libs/testing/src/workspace/deploy-manifests.spec.ts checks the manifests against it).
 */
export interface ServiceSpec {
  /** Folder under services/ and the Nx project name. */
  name: string;
  httpPort: number;
  grpcPort: number;
  /** Database the service owns (each service keeps its own tables, event streams and outbox). */
  database: string;
}

const spec = (name: string, httpPort: number, grpcPort: number): ServiceSpec => ({
  name,
  httpPort,
  grpcPort,
  database: `flowline_${name.replace(/-/g, '_')}`,
});

export const SERVICES: readonly ServiceSpec[] = [
  spec('order-intake', 3001, 50051),
  spec('inventory', 3002, 50052),
  spec('approval', 3003, 50053),
  spec('fulfillment', 3004, 50054),
  spec('notification', 3005, 50055),
  spec('tracking', 3006, 50056),
  spec('channel-gateway', 3007, 50057),
  spec('analytics', 3008, 50058),
  spec('console', 3009, 50059),
];

/** `order-intake` -> `ORDER_INTAKE_URL`: how a script (e.g. the demo seeder) finds a service. */
export function urlEnvName(service: string): string {
  return `${service.replace(/-/g, '_').toUpperCase()}_URL`;
}
