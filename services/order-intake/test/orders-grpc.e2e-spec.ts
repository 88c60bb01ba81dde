import { orderServiceClient, ordersGrpc, rpc as typedRpc, type RequestOf, type ResponseOf, type UnaryName } from '@flowline/clients';
import type { RunningService } from '@flowline/platform';
import { createTestDatabase, testTopicPrefix, tokenFor } from '@flowline/testing';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { PgOrderStore } from '../src/infra/pg-order-store';
import { startOrderIntake } from './support/order-intake-app';
import { placeOrderRequest } from './support/grpc-requests';
import { commitWithoutReactions } from './support/unreacted';

/** A response with its message fields present (the server always sets them). */
type Res<T> = { [K in keyof T]-?: NonNullable<T[K]> };
type Client = ReturnType<typeof orderServiceClient>;
/** Requests as the tests write them: nested messages may leave fields out (sent as their defaults). */
type Loose<T> = T extends object ? { [K in keyof T]?: Loose<T[K]> | null } : T;

// The gRPC surface (flowline.orders.v1.OrderService) against real PostgreSQL, in this process.
describe('order-intake gRPC API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let client: ReturnType<typeof orderServiceClient>;
  let seq = 0;
  const uniq = (p: string) => `${p}-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_grpc');
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
    if (!svc.grpcAddress) throw new Error('order-intake started without gRPC');
    // The generated typed client (@flowline/clients, ts-proto from proto/orders/v1): a contract change breaks this build.
    client = orderServiceClient(svc.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await svc?.close();
    await db?.drop();
  });

  const request = (overrides: Partial<Record<string, unknown>> = {}, requestId = uniq('req')) => placeOrderRequest(uniq('JD'), requestId, overrides);

  /** One unary call through the generated typed client (@flowline/clients). */
  const rpc = async <K extends UnaryName<Client>>(_client: Client, method: K, request: Loose<RequestOf<Client[K]>>) => {
    // Every call carries a token from the test issuer (issue #16).
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await tokenFor('admin')}`);
    return (await typedRpc(client, method, request as RequestOf<Client[K]>, { metadata })) as unknown as Res<ResponseOf<Client[K]>>;
  };
  const place = (req: Loose<RequestOf<Client['placeOrder']>>) => rpc(client, 'placeOrder', req);
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

  it('PlaceOrder with payment: paid in the same commit (version 1); a payment that does not cover the total -> INVALID_ARGUMENT PAYMENT_AMOUNT_MISMATCH, nothing stored', async () => {
    const paid = await place(request({ payment: { amount: { amount: 11000, currency: 'CNY' }, paymentRef: 'JDPAY-1', paidAt: '' } }));
    expect(paid.created).toBe(true);
    expect(paid.order).toMatchObject({ stage: 'ORDER_STAGE_PAID', version: 1 });
    const channelOrderId = uniq('JD');
    const f = await failure(place(request({ channelOrderId, payment: { amount: { amount: 10999, currency: 'CNY' }, paymentRef: '', paidAt: '' } })));
    expect(f).toMatchObject({ code: status.INVALID_ARGUMENT, domainCode: 'PAYMENT_AMOUNT_MISMATCH' });
    expect((await place(request({ channelOrderId }))).created).toBe(true);
  });

  it("paid_at (the platform's pay time) is kept as the payment's reported time, on PlaceOrder's payment and on ConfirmPayment; one without a zone is INVALID_ARGUMENT", async () => {
    const store = svc.app.get(PgOrderStore);
    const paymentOf = async (orderId: string) => {
      const { state } = await store.load(orderId);
      return state.status === 'none' ? null : state.payment;
    };
    const withPayment = await place(request({ payment: { amount: { amount: 11000, currency: 'CNY' }, paymentRef: 'JDPAY-2', paidAt: '2025-11-25T16:00:12+08:00' } }));
    expect(await paymentOf(withPayment.order.orderId)).toMatchObject({ amount: 11000, reportedPaidAt: '2025-11-25T08:00:12.000Z' });
    const { order } = await place(request());
    const meta = { requestId: '', correlationId: '' };
    const bad = await failure(rpc(client, 'confirmPayment', { meta, orderId: order.orderId, amount: { amount: order.totals?.grandTotal, currency: 'CNY' }, paymentRef: 'WX-3', paidAt: '2025-11-25 16:00:12' }));
    expect(bad).toMatchObject({ code: status.INVALID_ARGUMENT });
    await rpc(client, 'confirmPayment', { meta, orderId: order.orderId, amount: { amount: order.totals?.grandTotal, currency: 'CNY' }, paymentRef: 'WX-3', paidAt: '2025-11-25T09:30:00Z' });
    expect(await paymentOf(order.orderId)).toMatchObject({ reportedPaidAt: '2025-11-25T09:30:00.000Z' });
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
    const listed = await rpc(client, 'listOrders', { channel: 'jd', page: { pageSize: 100, pageToken: '' }, stages: [], shopId: '', flag: ordersGrpc.OrderFlag.ORDER_FLAG_UNSPECIFIED });
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
    const f = await failure(rpc(client, 'getOrder', { orderId: '01JDGZ6M3V8Q000000000NOPE0' }));
    expect(f).toMatchObject({ code: status.NOT_FOUND, domainCode: 'ORDER_NOT_FOUND' });
  });

  it('expected_version that no longer holds -> ABORTED ORDER_VERSION_MISMATCH', async () => {
    const { order } = await place(request());
    await rpc(client, 'placeHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: '核实收货人' });
    const f = await failure(rpc(client, 'releaseHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: 'ok', expectedVersion: 0 }));
    expect(f).toMatchObject({ code: status.ABORTED, domainCode: 'ORDER_VERSION_MISMATCH' });
    const ok = await rpc(client, 'releaseHold', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: 'ok', expectedVersion: 1 });
    expect(ok.order.version).toBe(2);
  });

  it('an illegal command -> FAILED_PRECONDITION with the stable code', async () => {
    const { order } = await place(request());
    const f = await failure(rpc(client, 'requestRefund', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, amount: { amount: 100, currency: 'CNY' }, reason: 'x' }));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, domainCode: 'ORDER_ILLEGAL_TRANSITION' });
  });

  it('concurrent CancelOrder and ReleaseOrder on a reserved order -> exactly one wins', async () => {
    // Reserved but not yet audited (the audit would release it in the same commit).
    const store = svc.app.get(PgOrderStore);
    for (let round = 0; round < 5; round++) {
      const { order } = await place(request());
      await rpc(client, 'confirmPayment', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, amount: { amount: order.totals?.grandTotal, currency: 'CNY' }, paymentRef: 'WX-1', paidAt: '' });
      await commitWithoutReactions(store, {
        type: 'RecordStockReserved',
        data: { orderId: order.orderId, reservationId: 'R', allocations: order.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-BJ', quantity: l.quantity })) },
        metadata: { commandId: `reserve-${order.orderId}`, correlationId: order.orderId, now: new Date().toISOString() },
      });
      // Both callers decided on revision 2 (placed, paid, reserved).
      const outcomes = await Promise.all([
        rpc(client, 'cancelOrder', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, reason: '客户取消', expectedVersion: 2 }).then(() => 'ok', (e: ServiceError) => e.code),
        rpc(client, 'releaseOrder', { meta: { requestId: '', correlationId: '' }, orderId: order.orderId, expectedVersion: 2 }).then(() => 'ok', (e: ServiceError) => e.code),
      ]);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o === status.ABORTED)).toHaveLength(1);
      const { order: final } = await rpc(client, 'getOrder', { orderId: order.orderId });
      // Cancel appends one event; a release also records the rule decision that passed it.
      expect(final.version).toBe(outcomes[0] === 'ok' ? 3 : 4);
      expect(final.stage).toBe(outcomes[0] === 'ok' ? 'ORDER_STAGE_CANCELLED' : 'ORDER_STAGE_READY_TO_SHIP');
    }
  });

  const noMeta = { requestId: '', correlationId: '' };

  it('ResolveException clears the exception flag; without an exception -> FAILED_PRECONDITION ORDER_NOT_IN_EXCEPTION', async () => {
    const changes = svc.app.get(ChangeOrderHandler);
    const { order } = await place(request());
    const refused = await failure(rpc(client, 'resolveException', { meta: noMeta, orderId: order.orderId, reason: 'nothing to resolve' }));
    expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, domainCode: 'ORDER_NOT_IN_EXCEPTION' });
    await changes.execute({
      type: 'FlagException',
      data: { orderId: order.orderId, code: 'ADDRESS_CHECK', reason: '地址不详' },
      metadata: { commandId: `flag-${order.orderId}`, correlationId: order.orderId, now: new Date().toISOString() },
    });
    const flagged = await rpc(client, 'getOrder', { orderId: order.orderId });
    expect(flagged.order.flags).toEqual(['ORDER_FLAG_EXCEPTION']);
    const stale = await failure(rpc(client, 'resolveException', { meta: noMeta, orderId: order.orderId, reason: '地址已核实', expectedVersion: 0 }));
    expect(stale).toMatchObject({ code: status.ABORTED, domainCode: 'ORDER_VERSION_MISMATCH' });
    const resolved = await rpc(client, 'resolveException', { meta: { requestId: uniq('resolve'), correlationId: '' }, orderId: order.orderId, reason: '地址已核实', expectedVersion: 1 });
    expect(resolved.order).toMatchObject({ stage: 'ORDER_STAGE_PLACED', flags: [], version: 2 });
    const blank = await failure(rpc(client, 'resolveException', { meta: noMeta, orderId: order.orderId, reason: '' }));
    expect(blank.code).toBe(status.INVALID_ARGUMENT);
    expect(blank.details).toContain('reason');
  });

  it('ConfirmRefund (RecordRefunded) ends an order refunded before shipment; again -> FAILED_PRECONDITION REFUND_NOT_REQUESTED', async () => {
    const { order } = await place(request());
    const due = order.totals?.grandTotal ?? 0;
    const notOwed = await failure(rpc(client, 'confirmRefund', { meta: noMeta, orderId: order.orderId, amount: { amount: due, currency: 'CNY' } }));
    expect(notOwed.code).toBe(status.FAILED_PRECONDITION);
    await rpc(client, 'confirmPayment', { meta: noMeta, orderId: order.orderId, amount: { amount: due, currency: 'CNY' }, paymentRef: 'WX-2', paidAt: '' });
    await rpc(client, 'requestRefund', { meta: noMeta, orderId: order.orderId, amount: { amount: due, currency: 'CNY' }, reason: '不想要了' });
    const zero = await failure(rpc(client, 'confirmRefund', { meta: noMeta, orderId: order.orderId, amount: { amount: 0, currency: 'CNY' } }));
    expect(zero.code).toBe(status.INVALID_ARGUMENT);
    expect(zero.details).toContain('amount');
    const key = uniq('refund-done');
    const done = await rpc(client, 'confirmRefund', { meta: { requestId: key, correlationId: '' }, orderId: order.orderId, amount: { amount: due, currency: 'CNY' }, expectedVersion: 2 });
    expect(done.order.stage).toBe('ORDER_STAGE_REFUNDED');
    expect(done.order.version).toBe(3);
    // The same request id is answered again, not applied twice.
    const replay = await rpc(client, 'confirmRefund', { meta: { requestId: key, correlationId: '' }, orderId: order.orderId, amount: { amount: due, currency: 'CNY' }, expectedVersion: 2 });
    expect(replay.order).toEqual(done.order);
    const again = await failure(rpc(client, 'confirmRefund', { meta: noMeta, orderId: order.orderId, amount: { amount: due, currency: 'CNY' } }));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
  });

  it('ListOrders answers from the read table (summary fields, as REST lists them), pages with the token', async () => {
    const shopId = uniq('grpc-shop');
    const placed = [];
    for (let i = 0; i < 3; i++) placed.push((await place(request({ shopId }))).order);
    await rpc(client, 'placeHold', { meta: noMeta, orderId: placed[1].orderId, reason: '核实' });
    const streamReads = vi.spyOn(svc.app.get(PgOrderStore), 'load');
    const first = await rpc(client, 'listOrders', { shopId, page: { pageSize: 2, pageToken: '' }, stages: [], channel: '', flag: ordersGrpc.OrderFlag.ORDER_FLAG_UNSPECIFIED });
    // No order stream is read to answer a list (it used to be one read per listed order).
    expect(streamReads).not.toHaveBeenCalled();
    streamReads.mockRestore();
    expect(first.orders.map((o) => o.orderId)).toEqual([placed[2].orderId, placed[1].orderId]);
    expect(first.orders[1]).toMatchObject({ channel: 'jd', shopId, stage: 'ORDER_STAGE_PLACED', flags: ['ORDER_FLAG_ON_HOLD'], version: 1, totals: { grandTotal: 11000, currency: 'CNY' } });
    expect(first.orders[0].channelOrderId).toBe(placed[2].channelOrderId);
    expect(first.orders[0].placedAt).toBe(placed[2].placedAt);
    expect(first.page.nextPageToken).not.toBe('');
    const second = await rpc(client, 'listOrders', { shopId, page: { pageSize: 2, pageToken: first.page.nextPageToken }, stages: [], channel: '', flag: ordersGrpc.OrderFlag.ORDER_FLAG_UNSPECIFIED });
    expect(second.orders.map((o) => o.orderId)).toEqual([placed[0].orderId]);
    expect(second.page.nextPageToken).toBe('');
    const held = await rpc(client, 'listOrders', { shopId, page: { pageSize: 10, pageToken: '' }, stages: [ordersGrpc.OrderStage.ORDER_STAGE_PLACED], channel: 'jd', flag: ordersGrpc.OrderFlag.ORDER_FLAG_ON_HOLD });
    expect(held.orders.map((o) => o.orderId)).toEqual([placed[1].orderId]);
  });
});
