import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Strict reflection client over the real process: list (tracking imports orders.proto but serves
// only TrackingService), describe, one call per RPC, and the malformed-input table on gRPC and REST.
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix() }),
  exercise: async (call) => {
    const listed = await call('TrackingService/ListOrders', { stages: ['ORDER_STAGE_PAID'], slaColours: ['SLA_COLOUR_RED'], flags: ['ORDER_FLAG_ON_HOLD'], page: { pageSize: 10 } });
    expect(listed.ok, listed.error?.details).toBe(true);
    // No such order: NOT_FOUND from the read model, with the one error model.
    const missing = await call('TrackingService/GetOrder', { orderId: '01JDGZ6M3V8Q0000000000NONE' });
    expect(missing.error?.code).toBe(5);
    expect((await call('TrackingService/GetKpis', { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' })).ok).toBe(true);
    expect((await call('TrackingService/ListStuckOrders', { page: { pageSize: 5 } })).ok).toBe(true);
    // A watch with no matching change sends nothing: its deadline, not UNIMPLEMENTED, ends it.
    const watch = await call('TrackingService/WatchOrders', { orderIds: ['01JDGZ6M3V8Q0000000000NONE'] });
    expect(watch.error?.code ?? 0).not.toBe(12);
  },
  malformed: [
    {
      name: 'GetOrder with an empty order id',
      grpc: { method: 'TrackingService/GetOrder', request: { orderId: '' }, field: 'orderId' },
    },
    {
      name: 'GetOrder with a malformed order id',
      grpc: { method: 'TrackingService/GetOrder', request: { orderId: 'a b' }, field: 'orderId' },
      rest: { method: 'GET', path: '/api/tracking/orders/a%20b', field: 'orderId' },
    },
    {
      name: 'ListOrders with an unknown stage',
      grpc: { method: 'TrackingService/ListOrders', request: { stages: [99] }, field: 'stages.0' },
      rest: { method: 'GET', path: '/api/tracking/orders?stage=teleported', field: 'stage' },
    },
    {
      name: 'ListOrders with an unknown SLA colour',
      grpc: { method: 'TrackingService/ListOrders', request: { slaColours: [42] }, field: 'slaColours.0' },
    },
    {
      name: 'ListOrders with a negative page size',
      grpc: { method: 'TrackingService/ListOrders', request: { page: { pageSize: -1 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/tracking/orders?limit=-1', field: 'limit' },
    },
    {
      name: 'ListStuckOrders with a page size above the maximum',
      grpc: { method: 'TrackingService/ListStuckOrders', request: { page: { pageSize: 501 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/tracking/stuck?limit=501', field: 'limit' },
    },
  ],
});
