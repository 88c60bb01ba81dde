import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const SKU = 'SKU-CONTRACT-1';
const meta = (id: string) => ({ requestId: `${id}-${Date.now()}` });

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show).
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), INVENTORY_CONSUMER_GROUP: `inventory-contract-${uniqueSuffix()}` }),
  exercise: async (call, http) => {
    const put = await fetch(`${http.url}/api/stock/skus/${SKU}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '合同测试茶', safetyStock: 0 }) });
    expect(put.status).toBeLessThan(300);
    const received = await call('InventoryService/ReceiveStock', { meta: meta('rcpt'), sku: SKU, warehouseId: 'WH-SH', quantity: 10, reference: 'PO-C1' });
    expect(received.response).toMatchObject({ level: { sku: SKU, warehouseId: 'WH-SH', onHand: '10' } });
    const adjusted = await call('InventoryService/AdjustStock', { meta: meta('adj'), sku: SKU, warehouseId: 'WH-SH', delta: -2, reason: 'damage' });
    expect(adjusted.response).toMatchObject({ level: { onHand: '8' } });
    expect((await call('InventoryService/GetStock', { sku: SKU })).response).toMatchObject({ totalOnHand: '8' });
    const reservations = await call('InventoryService/GetReservations', { sku: SKU, statuses: ['RESERVATION_STATUS_ACTIVE'] });
    expect(reservations.ok, reservations.error?.details).toBe(true);
    expect((await call('InventoryService/VerifyLedger', { sku: SKU })).response).toMatchObject({ consistent: true });
  },
  malformed: [
    {
      name: 'GetStock with an empty SKU',
      grpc: { method: 'InventoryService/GetStock', request: { sku: '' }, field: 'sku' },
    },
    {
      name: 'GetStock with a malformed SKU',
      grpc: { method: 'InventoryService/GetStock', request: { sku: 'bad\tsku' }, field: 'sku' },
      rest: { method: 'GET', path: '/api/stock/skus/bad%09sku', field: 'sku' },
    },
    {
      name: 'ReceiveStock with an empty warehouse id',
      grpc: { method: 'InventoryService/ReceiveStock', request: { meta: meta('bad'), sku: SKU, warehouseId: '', quantity: 1 }, field: 'warehouseId' },
      rest: { method: 'POST', path: '/api/stock/receipts', body: { sku: SKU, warehouseId: '', quantity: 1 }, field: 'warehouseId' },
    },
    {
      name: 'GetReservations with an unknown status',
      grpc: { method: 'InventoryService/GetReservations', request: { sku: SKU, statuses: [77] }, field: 'statuses.0' },
    },
    {
      name: 'GetReservations with a negative page size',
      grpc: { method: 'InventoryService/GetReservations', request: { sku: SKU, page: { pageSize: -1 } }, field: 'page.pageSize' },
    },
    {
      name: 'GetReservations with a malformed order id',
      grpc: { method: 'InventoryService/GetReservations', request: { orderId: 'x y' }, field: 'orderId' },
      rest: { method: 'GET', path: '/api/stock/reservations/x%20y', field: 'orderId' },
    },
  ],
});
