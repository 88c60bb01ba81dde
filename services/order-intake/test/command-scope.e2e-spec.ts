import { orderServiceClient, rpc as typedRpc, type RequestOf, type UnaryName } from '@flowline/clients';
import type { RunningService } from '@flowline/platform';
import { anOrderSubmission, authHeader, createTestDatabase, testTopicPrefix, tokenFor } from '@flowline/testing';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeOrderRequest } from './support/grpc-requests';
import { startOrderIntake } from './support/order-intake-app';

type Client = ReturnType<typeof orderServiceClient>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Json = Record<string, any>;

// Data scoping inside the command (issue #16): the command checks the caller's shops on the order it
// loads for the decider, in its own transaction. A JD-scoped person acting on a Taobao order gets the
// same 404 / NOT_FOUND as for an unknown id, and nothing is written (the order's revision stays).
describe('commands on an order outside the caller shops answer 404 / NOT_FOUND and write nothing (REST and gRPC)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let client: Client;
  let seq = 0;
  const uniq = (p: string) => `${p}-${process.pid}-${Date.now()}-${++seq}`;

  async function call(method: string, path: string, payload: unknown, headers: Record<string, string>) {
    const res = await fetch(`${svc.httpUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : null };
  }

  async function placeIn(shopId: string, channel: 'taobao' | 'jd'): Promise<string> {
    const { customer, shippingAddress, ...rest } = anOrderSubmission({ channelOrderId: uniq(channel.toUpperCase()) });
    const res = await call('POST', '/api/orders', { ...rest, channel, shopId, customer, shippingAddress }, { ...(await authHeader('admin')), 'idempotency-key': uniq('place') });
    expect(res.status).toBe(201);
    return String(res.json?.orderId);
  }

  const revisionOf = async (orderId: string) => {
    const res = await fetch(`${svc.httpUrl}/api/orders/${orderId}`, { headers: await authHeader('admin') });
    return ((await res.json()) as Json).revision as number;
  };

  const grpcFailure = async <K extends UnaryName<Client>>(method: K, request: RequestOf<Client[K]>, token: string) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const e = (await typedRpc(client, method, request, { metadata }).then(
      () => null,
      (err: unknown) => err as ServiceError,
    ));
    if (!e) throw new Error(`${String(method)} was expected to fail`);
    return { code: e.code, domainCode: (e.metadata as Metadata).get('x-domain-code')[0] as string | undefined };
  };

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_command_scope');
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
    if (!svc.grpcAddress) throw new Error('order-intake started without gRPC');
    client = orderServiceClient(svc.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await svc?.close();
    await db?.drop();
  });

  it('REST: cs-jd cancel / hold and a JD-only finance refund of a Taobao order -> 404 ORDER_NOT_FOUND, revision unchanged; the JD order is held', async () => {
    const taobao = await placeIn('taobao-xihu-tea-house', 'taobao');
    const jd = await placeIn('jd-flagship', 'jd');
    const before = await revisionOf(taobao);
    const csJd = await authHeader('customer_service', { user: 'cs-jd' });
    const financeJd = await authHeader('finance', { shops: ['jd-flagship'] });

    const cancel = await call('POST', `/api/orders/${taobao}/cancel`, { reason: 'scope test' }, { ...csJd, 'idempotency-key': uniq('c') });
    const hold = await call('POST', `/api/orders/${taobao}/holds`, { reason: 'scope test' }, { ...csJd, 'if-match': `"${before}"` });
    const refund = await call('POST', `/api/orders/${taobao}/refunds`, { amount: 100, reason: 'scope test' }, financeJd);
    for (const res of [cancel, hold, refund]) {
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    }
    // Same body as for an id that does not exist (existence is not confirmed).
    const unknown = await call('POST', `/api/orders/01JDGZ6M3V8Q4R5S6T7U8V9W0X/holds`, { reason: 'scope test' }, csJd);
    expect(unknown.status).toBe(404);
    expect(Object.keys(unknown.json ?? {}).sort()).toEqual(Object.keys(hold.json ?? {}).sort());
    expect(await revisionOf(taobao)).toBe(before);

    // In scope, the same person's command goes through.
    const own = await call('POST', `/api/orders/${jd}/holds`, { reason: 'scope test' }, { ...csJd, 'idempotency-key': uniq('h') });
    expect(own.status).toBe(200);
    expect(own.json?.flags).toContain('on_hold');
  });

  it('gRPC: CancelOrder / PlaceHold / RequestRefund on a Taobao order with JD-only tokens -> NOT_FOUND, revision unchanged', async () => {
    const taobao = await placeIn('taobao-xihu-tea-house', 'taobao');
    const before = await revisionOf(taobao);
    const csJd = await tokenFor('customer_service', { user: 'cs-jd' });
    const financeJd = await tokenFor('finance', { shops: ['jd-flagship'] });
    const meta = () => ({ requestId: uniq('g'), correlationId: '', actor: undefined });
    const results = [
      await grpcFailure('cancelOrder', { meta: meta(), orderId: taobao, reason: 'scope test' } as RequestOf<Client['cancelOrder']>, csJd),
      await grpcFailure('placeHold', { meta: meta(), orderId: taobao, reason: 'scope test' } as RequestOf<Client['placeHold']>, csJd),
      await grpcFailure('requestRefund', { meta: meta(), orderId: taobao, amount: { amount: 100, currency: 'CNY' }, reason: 'scope test' } as RequestOf<Client['requestRefund']>, financeJd),
    ];
    expect(results).toEqual([
      { code: status.NOT_FOUND, domainCode: 'ORDER_NOT_FOUND' },
      { code: status.NOT_FOUND, domainCode: 'ORDER_NOT_FOUND' },
      { code: status.NOT_FOUND, domainCode: 'ORDER_NOT_FOUND' },
    ]);
    expect(await revisionOf(taobao)).toBe(before);
  });

  it('trying waiting orders again (到货重新预占) is for tokens that see every shop: a JD-only one gets 403 (stock is shared), an admin 200', async () => {
    const refused = await call('POST', '/api/orders/shortages/retry', {}, await authHeader('finance', { shops: ['jd-flagship'] }));
    expect(refused.status).toBe(403);
    expect(refused.json?.code).toBe('FORBIDDEN');
    expect((await call('POST', '/api/orders/shortages/retry', {}, await authHeader('admin'))).status).toBe(200);
    // A warehouse token may not resolve exceptions at all (update Order).
    expect((await call('POST', '/api/orders/shortages/retry', {}, await authHeader('warehouse'))).status).toBe(403);
  });

  it('a payment with the order needs the permission to confirm payments: sales places (201) but may not place paid (403, REST and gRPC); a channel connector (integration) may', async () => {
    const { customer, shippingAddress, ...rest } = anOrderSubmission({ channelOrderId: uniq('PAID') });
    const body = { ...rest, channel: 'taobao', shopId: 'taobao-xihu-tea-house', customer, shippingAddress, payment: { amount: 26000 } };
    const sales = await authHeader('sales');
    const refused = await call('POST', '/api/orders', body, { ...sales, 'idempotency-key': uniq('place') });
    expect(refused.status).toBe(403);
    expect(refused.json?.message).toContain('update Order');
    const { payment: _payment, ...unpaid } = body;
    expect((await call('POST', '/api/orders', unpaid, { ...sales, 'idempotency-key': uniq('place') })).status).toBe(201);
    const metadata = new Metadata();
    metadata.set('authorization', sales.authorization);
    const paidRequest = placeOrderRequest(uniq('JD'), uniq('g'), { payment: { amount: { amount: 11000, currency: 'CNY' }, paymentRef: '', paidAt: '' } });
    const e = await typedRpc(client, 'placeOrder', paidRequest as unknown as RequestOf<Client['placeOrder']>, { metadata }).then(
      () => null,
      (err: unknown) => err as ServiceError,
    );
    expect(e?.code).toBe(status.PERMISSION_DENIED);
    const connector = await call('POST', '/api/orders', { ...body, channelOrderId: uniq('PAID') }, { ...(await authHeader('integration')), 'idempotency-key': uniq('place') });
    expect(connector.status).toBe(201);
    expect(connector.json).toMatchObject({ stage: 'paid' });
  });
});
