import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { resolve } from 'node:path';
import { startIssuer } from './auth';
import { ensureInfrastructure, kafkaBrokers, REPO_ROOT, runTopicPrefix, TEST_RUN_ENV } from './infra';

/**
 * Vitest global setup for integration and e2e tests: real Kafka and PostgreSQL, started once, and
 * the local OIDC issuer every service verifies tokens against.
 * Gives the run an id (inherited by the workers through the environment) that starts every topic
 * prefix made by `testTopicPrefix()`, and deletes the topics with that prefix when the run ends:
 * only this run's, since other runs may be using the same broker at the same time.
 */
export default async function setup(): Promise<() => Promise<void>> {
  ensureInfrastructure();
  const run = process.env[TEST_RUN_ENV] ?? randomBytes(3).toString('hex');
  process.env[TEST_RUN_ENV] = run;
  // The run's own OIDC issuer (scripts/oidc/issuer.mjs) on a free port: tests and the services they
  // start get OIDC_ISSUER and the service clients' secrets through the environment (issue #16).
  const issuer = await startIssuer();
  Object.assign(process.env, issuer.env);
  return async () => {
    await issuer.stop();
    await deleteRunTopics(run);
  };
}

/**
 * kafkajs 2.2.4's request queue arms a negative timer (a 1 ms spin and Node's
 * TimeoutNegativeWarning); @flowline/messaging patches it on load. This process uses kafkajs
 * directly, so it loads the patch by path (a lib import would make testing depend on messaging).
 */
async function patchKafkajs(): Promise<void> {
  try {
    const patch = (await import(resolve(REPO_ROOT, 'libs/messaging/src/kafka/kafkajs-patch.ts'))) as { patchKafkajsRequestQueue(): boolean };
    patch.patchKafkajsRequestQueue();
  } catch {
    // Without the patch the teardown still works, with the warning.
  }
}

export async function deleteRunTopics(run: string): Promise<void> {
  await patchKafkajs();
  const prefix = runTopicPrefix(run);
  const kafka = new Kafka({ clientId: 'flowline-test-teardown', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    for (let i = 0; i < topics.length; i += 100) {
      const batch = topics.slice(i, i + 100);
      // A test file may be deleting some of them right now: then one by one, ignoring the gone ones.
      await admin.deleteTopics({ topics: batch, timeout: 30_000 }).catch(async () => {
        for (const t of batch) await admin.deleteTopics({ topics: [t], timeout: 30_000 }).catch(() => undefined);
      });
    }
    if (topics.length) process.stdout.write(`test teardown: deleted ${topics.length} topic(s) of run ${run} (prefix ${prefix})\n`);
  } catch (e) {
    process.stderr.write(`test teardown: could not delete the topics of run ${run}: ${(e as Error).message}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
