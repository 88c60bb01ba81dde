import { createTestDatabase, kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startServiceProcess } from './testing/service-process';

/**
 * A stop that runs past SHUTDOWN_TIMEOUT_MS ends with a log line and exit code 1, not with the
 * orchestrator's SIGKILL (bootstrap.ts armShutdownDeadline). A real service process (inventory):
 * with a 1 ms deadline its consumers, relay and pools cannot all close in time.
 */
describe('shutdown deadline (real service process)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

  afterAll(async () => {
    await db?.drop();
  });

  it('exits 1 and says so when the hooks outlast SHUTDOWN_TIMEOUT_MS', async () => {
    db = await createTestDatabase('shutdown_deadline');
    const svc = await startServiceProcess({
      service: 'inventory',
      env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: testTopicPrefix(), SHUTDOWN_TIMEOUT_MS: '1', LOG_LEVEL: 'warn' },
      readyTimeoutMs: 120_000,
    });
    const exit = await svc.stop('SIGTERM', 20_000);
    expect(exit, svc.output().slice(-4000)).toEqual({ code: 1, signal: null });
    expect(svc.output()).toMatch(/shutdown did not finish within 1 ms of SIGTERM/);
  });
});
