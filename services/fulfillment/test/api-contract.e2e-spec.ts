import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const NONE = '01JDGZ6M3V8Q0000000000NONE';
const meta = () => ({ requestId: `req-${uniqueSuffix()}`, actor: { kind: 'user', id: 'u-contract', role: 'general_manager' } });

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show). No order reached fulfillment: the
// commands are answered by the implementation (not found / refused with the one error model).
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), FULFILLMENT_CONSUMER_GROUP: `fulfillment-contract-${uniqueSuffix()}` }),
  exercise: async (call) => {
    const pick = await call('FulfillmentService/ListPickList', { warehouseId: 'WH-SH', pageSize: 10 });
    expect(pick.ok, pick.error?.details).toBe(true);
    const order = await call('FulfillmentService/GetOrderFulfillment', { orderId: NONE });
    expect(order.error?.code ?? 0, order.error?.details).not.toBe(3);
    const freeze = await call('FulfillmentService/GetFreeze', { orderId: NONE });
    expect(freeze.error?.code ?? 0, freeze.error?.details).not.toBe(3);
    for (const [method, request] of [
      ['Pack', { meta: meta(), shipmentId: NONE }],
      ['Ship', { meta: meta(), shipmentId: NONE, carrier: 'sf-express' }],
      ['MarkDelivered', { meta: meta(), shipmentId: NONE }],
      ['StartPicking', { meta: meta(), shipmentId: NONE }],
      ['ScanItem', { meta: meta(), shipmentId: NONE, sku: 'TEA-LJ-250', quantity: 1 }],
      ['ConfirmIntercept', { meta: meta(), shipmentId: NONE }],
      ['RejectIntercept', { meta: meta(), shipmentId: NONE }],
      ['OverrideFreeze', { meta: meta(), orderId: NONE, reason: 'customer confirmed by phone' }],
    ] as const) {
      const r = await call(`FulfillmentService/${method}`, request);
      // Well-formed ids nobody issued: refused by the implementation, never as bad input.
      expect(r.error?.code, `${method}: ${r.error?.details}`).not.toBe(3);
    }
  },
  malformed: [
    {
      name: 'GetOrderFulfillment with an empty order id',
      grpc: { method: 'FulfillmentService/GetOrderFulfillment', request: { orderId: '' }, field: 'orderId' },
    },
    {
      name: 'GetOrderFulfillment with a malformed order id',
      grpc: { method: 'FulfillmentService/GetOrderFulfillment', request: { orderId: 'bad id?' }, field: 'orderId' },
      rest: { method: 'GET', path: '/api/fulfillment/orders/bad%20id%3F', field: 'orderId' },
    },
    {
      name: 'StartPicking with a malformed shipment id',
      grpc: { method: 'FulfillmentService/StartPicking', request: { meta: meta(), shipmentId: 'a#b' }, field: 'shipmentId' },
      rest: { method: 'POST', path: '/api/fulfillment/shipments/a%23b/pick', field: 'shipmentId' },
    },
    {
      name: 'ScanItem with an empty SKU',
      grpc: { method: 'FulfillmentService/ScanItem', request: { meta: meta(), shipmentId: NONE, sku: '', quantity: 1 }, field: 'sku' },
    },
    {
      name: 'ListPickList with a malformed warehouse id',
      grpc: { method: 'FulfillmentService/ListPickList', request: { warehouseId: 'WH SH' }, field: 'warehouseId' },
      rest: { method: 'GET', path: '/api/fulfillment/warehouses/WH%20SH/pick-list', field: 'warehouseId' },
    },
    {
      name: 'ListPickList with a negative page size',
      grpc: { method: 'FulfillmentService/ListPickList', request: { warehouseId: 'WH-SH', pageSize: -1 }, field: 'pageSize' },
      rest: { method: 'GET', path: '/api/fulfillment/warehouses/WH-SH/pick-list?limit=-1', field: 'limit' },
    },
    {
      name: 'ListPickList with a page size above the maximum',
      grpc: { method: 'FulfillmentService/ListPickList', request: { warehouseId: 'WH-SH', pageSize: 501 }, field: 'pageSize' },
      rest: { method: 'GET', path: '/api/fulfillment/warehouses/WH-SH/pick-list?limit=501', field: 'limit' },
    },
    {
      name: 'OverrideFreeze without a reason',
      grpc: { method: 'FulfillmentService/OverrideFreeze', request: { meta: meta(), orderId: NONE, reason: '' }, field: 'reason' },
    },
  ],
});
