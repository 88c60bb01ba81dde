import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const uniq = (p: string) => `${p}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const meta = () => ({ requestId: uniq('req'), actor: { kind: 'user', id: 'u-contract', role: 'ops' } });

const placeOrder = () => ({
  meta: meta(),
  channel: 'jd',
  channelOrderId: uniq('JD'),
  shopId: 'jd-self-run',
  customer: { channelCustomerId: 'jd_9981', name: '李四', phone: '13900001111' },
  shippingAddress: { province: '北京市', city: '北京市', district: '朝阳区', street: '建国路', detail: '88号', postalCode: '100022', recipient: '李四', phone: '13900001111' },
  lines: [{ sku: 'PHONE-CASE-01', title: '手机壳', quantity: 3, unitPrice: 3990, category: 'accessory' }],
  orderDiscount: 970,
  currency: 'CNY',
});

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show).
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix() }),
  exercise: async (call) => {
    const placed = await call('OrderService/PlaceOrder', placeOrder());
    expect(placed.ok, placed.error?.details).toBe(true);
    const order = (placed.response as { order: { orderId: string; totals: { grandTotal: string } } }).order;
    const orderId = order.orderId;
    expect((await call('OrderService/GetOrder', { orderId })).response).toMatchObject({ order: { orderId, stage: 'ORDER_STAGE_PLACED' } });
    const listed = await call('OrderService/ListOrders', { stages: ['ORDER_STAGE_PLACED'], page: { pageSize: 5 } });
    expect(listed.ok, listed.error?.details).toBe(true);
    expect((await call('OrderService/PlaceHold', { meta: meta(), orderId, reason: 'check address' })).ok).toBe(true);
    expect((await call('OrderService/ReleaseHold', { meta: meta(), orderId, reason: 'address confirmed' })).ok).toBe(true);
    const paid = await call('OrderService/ConfirmPayment', { meta: meta(), orderId, amount: { amount: order.totals.grandTotal, currency: 'CNY' }, paymentRef: 'PAY-1' });
    expect(paid.ok, paid.error?.details).toBe(true);
    // Refused in this stage, but answered by the implementation (FAILED_PRECONDITION with a reason).
    expect((await call('OrderService/ResolveException', { meta: meta(), orderId, reason: 'nothing to resolve' })).error?.code).toBe(9);
    expect((await call('OrderService/ReleaseOrder', { meta: meta(), orderId })).error?.code).toBe(9);
    expect((await call('OrderService/ConfirmRefund', { meta: meta(), orderId, amount: { amount: 1, currency: 'CNY' } })).error?.code).toBe(9);
    const refund = await call('OrderService/RequestRefund', { meta: meta(), orderId, amount: { amount: order.totals.grandTotal, currency: 'CNY' }, reason: 'buyer asked' });
    expect(refund.error?.code ?? 0).not.toBe(12);
    const other = (await call('OrderService/PlaceOrder', placeOrder())).response as { order: { orderId: string } };
    expect((await call('OrderService/CancelOrder', { meta: meta(), orderId: other.order.orderId, reason: 'buyer changed mind' })).ok).toBe(true);
  },
  malformed: [
    { name: 'GetOrder with an empty order id', grpc: { method: 'OrderService/GetOrder', request: { orderId: '' }, field: 'orderId' } },
    {
      name: 'GetOrder with a malformed order id',
      grpc: { method: 'OrderService/GetOrder', request: { orderId: 'no such/../id ' }, field: 'orderId' },
      rest: { method: 'GET', path: '/api/orders/bad%20id%3F', field: 'orderId' },
    },
    { name: 'CancelOrder with an empty order id', grpc: { method: 'OrderService/CancelOrder', request: { meta: meta(), orderId: '', reason: 'x' }, field: 'orderId' } },
    {
      name: 'ListOrders with an unknown stage',
      grpc: { method: 'OrderService/ListOrders', request: { stages: ['ORDER_STAGE_PLACED', 99] }, field: 'stages.1' },
      rest: { method: 'GET', path: '/api/orders?stage=placed,teleported', field: 'stage' },
    },
    { name: 'ListOrders with an unknown flag', grpc: { method: 'OrderService/ListOrders', request: { flag: 42 }, field: 'flag' } },
    {
      name: 'ListOrders with a negative page size',
      grpc: { method: 'OrderService/ListOrders', request: { page: { pageSize: -1 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/orders?limit=-1', field: 'limit' },
    },
    {
      name: 'ListOrders with a page size above the maximum',
      grpc: { method: 'OrderService/ListOrders', request: { page: { pageSize: 1000 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/orders?limit=1000', field: 'limit' },
    },
  ],
});
