import { ensureInfrastructure } from './infra';

/** Vitest global setup for integration and e2e tests: real Kafka and PostgreSQL, started once. */
export default function setup(): void {
  ensureInfrastructure();
}
