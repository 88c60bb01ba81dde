import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { decodeRpcStatus, grpcClient, GRPC_RETRY_AFTER_KEY, startServiceProcess, unary, type DynamicGrpcClient, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, testTopicPrefix, tokenFor, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_SERVICE } from '../src/service';

/*
 * gRPC rate limits across real processes (issue #16): two analytics processes on one database share
 * the per-identity count over gRPC (libs/platform throttle, PostgreSQL store); the call over the
 * limit answers RESOURCE_EXHAUSTED with `retry-after` seconds in the trailing metadata.
 */

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const procs: ServiceProcess[] = [];
const clients: DynamicGrpcClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase('analytics_grpc_limit');
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: testTopicPrefix(),
    KAFKA_TOPIC_PARTITIONS: '1',
    ANALYTICS_CONSUME: 'false',
    ANALYTICS_CONSUMER_GROUP: `analytics-limit-${uniqueSuffix()}`,
    RATE_LIMIT_PER_IDENTITY: '3',
    RATE_LIMIT_PER_IP: '0',
  };
  // One after the other: both migrate the same database at boot (under the migrations lock anyway).
  for (let i = 0; i < 2; i++) procs.push(await startServiceProcess({ service: 'analytics', env, readyTimeoutMs: 150_000 }));
  for (const p of procs) clients.push(grpcClient(p.grpcAddress, 'analytics/v1/analytics.proto', GRPC_SERVICE));
}, 360_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of procs) await p.stop('SIGTERM').catch(() => undefined);
  await db?.drop();
});

describe('gRPC rate limit shared by two analytics processes', () => {
  it('the fourth call of one subject within the window, on either process, is RESOURCE_EXHAUSTED with retry-after; another subject still passes', async () => {
    const [finance, gm] = [await tokenFor('finance'), await tokenFor('general_manager')];
    const call = (i: number, token: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      return unary<{ schema: string }>(clients[i], 'GetChecksum', {}, 15_000, md);
    };
    for (const i of [0, 1, 0]) expect((await call(i, finance)).schema).toBe('analytics');
    const error = (await call(1, finance).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const retryAfter = Number(error.metadata.get(GRPC_RETRY_AFTER_KEY)[0]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(decodeRpcStatus(error.metadata)?.errorInfo).toMatchObject({ reason: 'TOO_MANY_REQUESTS', domain: expect.stringContaining('analytics') });
    expect(((await call(0, finance).catch((e: unknown) => e)) as ServiceError).code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect((await call(0, gm)).schema).toBe('analytics');
  }, 60_000);
});
