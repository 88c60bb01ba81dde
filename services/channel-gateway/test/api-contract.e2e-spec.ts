import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show).
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix() }),
  exercise: async (call, http) => {
    const stats = await call('ChannelGatewayService/GetIngestStats', {});
    expect(stats.ok, stats.error?.details).toBe(true);
    const all = await call('ChannelGatewayService/ListQuarantine', {});
    expect(all.ok, all.error?.details).toBe(true);
    const jd = await call('ChannelGatewayService/ListQuarantine', { channel: 'jd' });
    expect(jd.ok, jd.error?.details).toBe(true);
    // The REST twins of the same reads answer too.
    expect((await fetch(`${http.url}/api/quarantine?channel=jd`)).status).toBe(200);
    // A well-formed id nobody issued is NOT_FOUND, not a validation error.
    const run = await fetch(`${http.url}/api/imports/01JDGZ6M3V8Q0000000000NONE`);
    expect(run.status).toBe(404);
    // Path ids without a gRPC twin: malformed -> 400 problem+json naming the parameter.
    for (const [path, field] of [['/api/imports/bad%20id%3F', 'runId'], ['/api/connectors/jd/shop%20one/pull', 'shopId']] as const) {
      const res = await fetch(`${http.url}${path}`, { method: path.endsWith('/pull') ? 'POST' : 'GET' });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { code: string; errors: { field: string }[] })).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field }] });
    }
  },
  malformed: [
    {
      name: 'ListQuarantine with an unknown channel',
      grpc: { method: 'ChannelGatewayService/ListQuarantine', request: { channel: 'ebay' }, field: 'channel' },
      rest: { method: 'GET', path: '/api/quarantine?channel=ebay', field: 'channel' },
    },
    {
      name: 'ListQuarantine with a channel in the wrong case',
      grpc: { method: 'ChannelGatewayService/ListQuarantine', request: { channel: 'JD' }, field: 'channel' },
      rest: { method: 'GET', path: '/api/quarantine?channel=JD', field: 'channel' },
    },
  ],
});
