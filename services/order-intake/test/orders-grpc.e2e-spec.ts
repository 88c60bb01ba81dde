import type { ordersV1 } from '@flowline/contracts';
import { grpcClient, unary, type RunningService } from '@flowline/platform';
import { createTestDatabase, testTopicPrefix } from '@flowline/testing';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { GRPC_SERVICE } from '../src/service';
import { startOrderIntake } from './support/order-intake-app';

/** A response with its message fields present (the server always sets them). */
type Res<T> = { [K in keyof T]-?: NonNullable<T[K]> };

// The gRPC surface (flowline.orders.v1.OrderService) against real PostgreSQL, in this process.
describe('order-intake gRPC API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let client: ReturnType<typeof grpcClient>;
  let seq = 0;
  const uniq = (p: string) => `${p}-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_grpc');
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
    if (!svc.grpcAddress) throw new Error('order-intake started without gRPC');
    client = grpcClient(svc.grpcAddress, 'orders/v1/orders.proto', GRPC_SERVICE);
  });

  afterAll(async () => {
    client?.close();
    await svc?.close();
    await db?.drop();
  });

  function request(overrides: Partial<Record<string, unknown>> = {}, requestId = uniq('req')) {
    return {
      meta: { requestId, correlationId: '', actor: { kind: 'channel', id: 'jd-connector', role: 'system', name: '' } },
      channel: 'jd',
      channelOrderId: uniq('JD'),
      shopId: 'jd-self-run',
      customer: { channelCustomerId: 'jd_9981', nickname: '', name: '李四', phone: '13900001111', email: '', tags: [] },
      shippingAddress: { province: '北京市', city: '北京市', district: '朝阳区', street: '建国路', detail: '88号 SOHO 现代城 2 号楼 1501', postalCode: '100022', recipient: '李四', phone: '13900001111' },
      lines: [{ lineId: '', sku: 'PHONE-CASE-01', title: '手机壳', quantity: 3, unitPrice: 3990, lineDiscount: 0, category: 'accessory' }],
      shippingFee: 0,
      orderDiscount: 970,
      currency: 'CNY',
      buyerMessage: '',
      tags: [],
      attachments: [],
      placedAt: '',
      sellerRemark: '',
      ...overrides,
    };
  }

  const place = (req: object) => unary<Res<ordersV1.PlaceOrderResponse>>(client, 'PlaceOrder', req);
  const failure = async (p: Promise<unknown>) => {
    const e = (await p.then(
      () => null,
      (err: unknown) => err,
    )) as ServiceError | null;
    if (!e) throw new Error('expected the call to fail');
    const md = e.metadata as Metadata;
    return { code: e.code, domainCode: md.get('x-domain-code')[0] as string | undefined, details: e.details };
  };

  it('PlaceOrder creates the order with server id and totals, masked customer', async () => {
    const res = await place(request());
    expect(res.created).toBe(true);
    expect(res.replayed).toBe(false);
    expect(res.order).toMatchObject({ stage: 'ORDER_STAGE_PLACED', version: 0, totals: { itemsTotal: 11970, grandTotal: 11000, currency: 'CNY' } });
    expect(res.order.customer).toMatchObject({ nameMasked: '李*', phoneMasked: '139****1111' });
    expect(res.order.lines[0].lineId).toBe('L1');
  });

  it('requires meta.request_id (INVALID_ARGUMENT)', async () => {
    const f = await failure(place(request({}, '')));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain('meta.request_id');
  });

  it('same request_id and body -> the same order, marked replayed; another body -> INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED', async () => {
    const req = request({}, 'grpc-key-1');
    const first = await place(req);
    const again = await place(req);
    expect(again.order).toEqual(first.order);
    expect(again.replayed).toBe(true);
    const other = await failure(place(request({}, 'grpc-key-1')));
    expect(other).toMatchObject({ code: status.INVALID_ARGUMENT, domainCode: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('concurrent calls with one request_id -> one order', async () => {
    const req = request({}, 'grpc-key-2');
    const results = await Promise.all(Array.from({ length: 5 }, () => place(req)));
    expect(new Set(results.map((r) => r.order.orderId)).size).toBe(1);
    expect(results.filter((r) => r.replayed)).toHaveLength(4);
  });

  it('a duplicate channel order sent three times at once -> one order (created once)', async () => {
    const channelOrderId = uniq('JD-DUP');
    const results = await Promise.all([1, 2, 3].map(() => place(request({ channelOrderId }))));
    expect(new Set(results.map((r) => r.order.orderId)).size).toBe(1);
    expect(results.map((r) => r.created).sort()).toEqual([false, false, true]);
    const listed = await unary<ordersV1.ListOrdersResponse>(client, 'ListOrders', { channel: 'jd', page: { pageSize: 100, pageToken: '' }, stages: [], shopId: '', flag: 'ORDER_FLAG_UNSPECIFIED' });
    expect(listed.orders.filter((o) => o.channelOrderId === channelOrderId)).toHaveLength(1);
  });

  it('a client grand_total that disagrees -> INVALID_ARGUMENT ORDER_TOTAL_MISMATCH; an agreeing one is accepted', async () => {
    const f = await failure(place(request({ grandTotal: 11001 })));
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT, domainCode: 'ORDER_TOTAL_MISMATCH' });
    expect((await place(request({ grandTotal: 11000 }))).created).toBe(true);
  });

  it('invalid fields -> INVALID_ARGUMENT naming them', async () => {
    const f = await failure(place(request({ lines: [{ lineId: '', sku: 'X', title: 'x', quantity: 0, unitPrice: 1, lineDiscount: 0, category: '' }], channel: 'ebay' })));
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain('lines.0.quantity');
    expect(f.details).toContain('channel');
  });

  it('GetOrder of an unknown id -> NOT_FOUND ORDER_NOT_FOUND', async () => {
    const f = await failure(unary(client, 'GetOrder', { orderId: '01JDGZ6M3V8Q000000000NOPE0' }));
    expect(f).toMatchObject({ code: status.NOT_FOUND, domainCode: 'ORDER_NOT_FOUND' });
  });

  it('expected_version that no longer holds -> ABORTED ORDER_VERSION_MISMATCH', async () => {
    const { order } = await place(request());
    await unary(client, 'PlaceHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: '核实收货人' });
    const f = await failure(unary(client, 'ReleaseHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: 'ok', expectedVersion: 0 }));
    expect(f).toMatchObject({ code: status.ABORTED, domainCode: 'ORDER_VERSION_MISMATCH' });
    const ok = await unary<Res<ordersV1.ReleaseHoldResponse>>(client, 'ReleaseHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: 'ok', expectedVersion: 1 });
    expect(ok.order.version).toBe(2);
  });

  it('an illegal command -> FAILED_PRECONDITION with the stable code', async () => {
    const { order } = await place(request());
    const f = await failure(unary(client, 'RequestRefund', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, amount: { amount: 100, currency: 'CNY' }, reason: 'x' }));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, domainCode: 'ORDER_ILLEGAL_TRANSITION' });
  });

  it('concurrent CancelOrder and ReleaseOrder on a reserved order -> exactly one wins', async () => {
    const changes = svc.app.get(ChangeOrderHandler);
    for (let round = 0; round < 5; round++) {
      const { order } = await place(request());
      await unary(client, 'ConfirmPayment', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, amount: { amount: order.totals?.grandTotal, currency: 'CNY' }, paymentRef: 'WX-1', paidAt: '' });
      await changes.execute({
        type: 'RecordStockReserved',
        data: { orderId: order.orderId, reservationId: 'R', allocations: order.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-BJ', quantity: l.quantity })) },
        metadata: { commandId: `reserve-${order.orderId}`, correlationId: order.orderId, now: new Date().toISOString() },
      });
      // Both callers decided on revision 2 (placed, paid, reserved).
      const outcomes = await Promise.all([
        unary(client, 'CancelOrder', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: '客户取消', expectedVersion: 2 }).then(() => 'ok', (e: ServiceError) => e.code),
        unary(client, 'ReleaseOrder', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, expectedVersion: 2 }).then(() => 'ok', (e: ServiceError) => e.code),
      ]);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o === status.ABORTED)).toHaveLength(1);
      const { order: final } = await unary<Res<ordersV1.GetOrderResponse>>(client, 'GetOrder', { orderId: order.orderId });
      // Cancel appends one event; a release also records the rule decision that passed it.
      expect(final.version).toBe(outcomes[0] === 'ok' ? 3 : 4);
      expect(final.stage).toBe(outcomes[0] === 'ok' ? 'ORDER_STAGE_CANCELLED' : 'ORDER_STAGE_READY_TO_SHIP');
    }
  });
});
