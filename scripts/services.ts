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
  /**
   * V8 old-space cap in MiB (`--max-old-space-size`): about 62% of the 256 MiB each service may use
   * (issue #10; the k8s limit), leaving room for code, the young generation and native buffers
   * (Kafka fetches, pg). Idle heaps measured 60-110 MiB used (bench, 2026-12-05), so this is where
   * V8 starts collecting hard, not a live-set squeeze. k8s sets the same from each container limit.
   */
  heapMiB: number;
}

const spec = (name: string, httpPort: number, grpcPort: number, heapMiB = 160): ServiceSpec => ({
  name,
  httpPort,
  grpcPort,
  database: `flowline_${name.replace(/-/g, '_')}`,
  heapMiB,
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

/**
 * V8 flags of a service process: the old-space cap above and 4 MB semi-spaces. V8's default young
 * generation is sized for big machines; idle RSS of fulfillment / tracking measured 2026-12-05
 * (started alone, 20 s after ready): semi-space 8 MB 159 / 159 MiB, 4 MB 150 / 149 MiB, 2 MB 146 /
 * 145 MiB (MALLOC_ARENA_MAX=2 gained 2 MiB only). Smaller means more frequent scavenges (CPU): 4 MB
 * is the compromise at the 150 MiB idle target. `FLOWLINE_NODE_FLAGS` replaces them all.
 */
export function serviceNodeFlags(svc: Pick<ServiceSpec, 'heapMiB'>, env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.FLOWLINE_NODE_FLAGS !== undefined) return env.FLOWLINE_NODE_FLAGS.split(' ').filter(Boolean);
  return [`--max-old-space-size=${svc.heapMiB}`, '--max-semi-space-size=4'];
}

/** `order-intake` -> `ORDER_INTAKE_URL`: how a script (e.g. the demo seeder) finds a service. */
export function urlEnvName(service: string): string {
  return `${service.replace(/-/g, '_').toUpperCase()}_URL`;
}
