import type { RunningService } from '@flowline/platform';
import { anOrderSubmission, createTestDatabase, grandTotalOf, lines, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../src/application/order-view';
import { ChangeOrderHandler } from '../src/application/change-order.handler';
import { startOrderIntake } from './support/order-intake-app';
import { commitWithoutReactions } from './support/unreacted';
import { PgOrderStore } from '../src/infra/pg-order-store';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Json = Record<string, any>;

// order-intake's REST API against real PostgreSQL (and Kafka for topics/relay), in this process.
// The process manager is off here (the order's own reactions still run in each command's commit).
describe('order-intake REST API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_rest');
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
  });

  afterAll(async () => {
    await svc?.close();
    await db?.drop();
  });

  const uniq = (p: string) => `${p}-${process.pid}-${Date.now()}-${++seq}`;

  /** A valid REST body: the canonical submission without server-owned fields. */
  function body(overrides: Record<string, unknown> = {}) {
    const { customer, shippingAddress, ...rest } = anOrderSubmission({ channelOrderId: uniq('TM') });
    return { ...rest, customer, shippingAddress, ...overrides };
  }

  async function call(method: string, path: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${svc.httpUrl}${path}`, {
      method,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload !== undefined ? { body: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Json) : null };
  }

  const place = (payload: unknown, key = uniq('key')) => call('POST', '/api/orders', payload, { 'idempotency-key': key });

  describe('POST /api/orders', () => {
    it('creates the order with a server-made ULID, server totals, masked customer, ETag and Location', async () => {
      const res = await place(body());
      expect(res.status).toBe(201);
      const order = res.json as OrderView;
      expect(order.orderId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(order.stage).toBe('placed');
      expect(order.totals).toEqual({ itemsTotal: 25600, shippingFee: 1000, orderDiscount: 600, grandTotal: 26000, currency: 'CNY' });
      expect(order.customer).toMatchObject({ nameMasked: '张*', phoneMasked: '138****5678' });
      expect(JSON.stringify(order)).not.toContain('13812345678');
      expect(res.headers.get('etag')).toBe('"0"');
      expect(res.headers.get('location')).toBe(`/api/orders/${order.orderId}`);
    });

    it('requires an Idempotency-Key (400 naming the header)', async () => {
      const res = await call('POST', '/api/orders', body());
      expect(res.status).toBe(400);
      expect(res.json?.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key', constraint: 'required' })]);
    });

    it('same key and same body -> the same response, applied once', async () => {
      const b = body();
      const first = await place(b, 'same-key-1');
      const again = await place(b, 'same-key-1');
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.json).toEqual(first.json);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const list = await call('GET', `/api/orders?channel=tmall&limit=100`);
      expect((list.json?.orders as { channelOrderId: string }[]).filter((o) => o.channelOrderId === b.channelOrderId)).toHaveLength(1);
    });

    it('same key with another body -> 422 IDEMPOTENCY_KEY_REUSED', async () => {
      await place(body(), 'same-key-2');
      const res = await place(body(), 'same-key-2');
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { field: 'Idempotency-Key' } });
    });

    it('concurrent requests with one key -> one execution, one order, the same answer for all', async () => {
      const b = body();
      const results = await Promise.all(Array.from({ length: 6 }, () => place(b, 'same-key-3')));
      expect(new Set(results.map((r) => r.json?.orderId)).size).toBe(1);
      expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
      expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(5);
    });

    it('a duplicate channel order submitted three times at once (different keys) -> one order; the others get it with 200', async () => {
      const b = body({ channel: 'taobao', channelOrderId: uniq('4012345678901234567') });
      const results = await Promise.all([place(b), place(b), place(b)]);
      const ids = new Set(results.map((r) => r.json?.orderId));
      expect(ids.size).toBe(1);
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
      const list = await call('GET', `/api/orders?channel=taobao&limit=100`);
      expect((list.json?.orders as { channelOrderId: string }[]).filter((o) => o.channelOrderId === b.channelOrderId)).toHaveLength(1);
    });

    it('a client total that disagrees with the server total -> 422 ORDER_TOTAL_MISMATCH naming grandTotal', async () => {
      const res = await place(body({ grandTotal: 25999 }));
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ code: 'ORDER_TOTAL_MISMATCH', details: { field: 'grandTotal', claimed: 25999, computed: 26000 } });
      expect((await place(body({ grandTotal: 26000 }))).status).toBe(201);
    });

    it.each([
      ['status', { status: 'shipped' }],
      ['orderId', { orderId: '01JDGZ6M3V8Q0000000000ORD1' }],
      ['totals', { totals: { grandTotal: 1 } }],
      ['lines.0.lineTotal', { lines: [{ ...lines({})[0], lineTotal: 1 }] }],
    ])('a client-sent %s it does not own -> 400 naming the field', async (field, patch) => {
      const res = await place(body(patch));
      expect(res.status).toBe(400);
      expect(res.json?.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, constraint: 'whitelistValidation' })]));
    });

    it('an order that arrives paid: payment with the placement -> 201 paid at revision 1; refused payment -> 422 and no order; a repeat of the channel order -> 200, unchanged', async () => {
      const channelOrderId = uniq('PAID');
      const paid = await place(body({ channelOrderId, payment: { amount: 26000, paymentRef: 'ALIPAY-9' } }));
      expect(paid.status).toBe(201);
      expect(paid.json).toMatchObject({ stage: 'paid', revision: 1 });
      expect(paid.headers.get('etag')).toBe('"1"');

      const wrongId = uniq('PAID');
      const wrong = await place(body({ channelOrderId: wrongId, payment: { amount: 25000 } }));
      expect(wrong.status).toBe(422);
      expect(wrong.json).toMatchObject({ code: 'PAYMENT_AMOUNT_MISMATCH', details: { field: 'payment.amount', due: 26000 } });
      const cod = await place(body({ channelOrderId: wrongId, paymentMethod: 'cod', payment: { amount: 26000 } }));
      expect(cod.status).toBe(422);
      expect(cod.json).toMatchObject({ code: 'ORDER_INVALID', details: { field: 'payment' } });
      // Nothing was stored for it: the same channel order placed now is a new order.
      expect((await place(body({ channelOrderId: wrongId }))).status).toBe(201);

      const bad = await place(body({ channelOrderId: uniq('PAID'), payment: { amount: -1, currency: 'yuan' } }));
      expect(bad.status).toBe(400);
      expect((bad.json?.errors as { field: string }[]).map((e) => e.field)).toEqual(expect.arrayContaining(['payment.amount', 'payment.currency']));
      const notObject = await place(body({ channelOrderId: uniq('PAID'), payment: [26000] }));
      expect(notObject.status).toBe(400);
      expect((notObject.json?.errors as { field: string }[]).map((e) => e.field)).toContain('payment');

      const plainId = uniq('PAID');
      const first = (await place(body({ channelOrderId: plainId }))).json as OrderView;
      const again = await place(body({ channelOrderId: plainId, payment: { amount: 26000 } }));
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ orderId: first.orderId, stage: 'placed', revision: 0 });
    });

    it('every validation error names its field', async () => {
      const res = await place(body({ lines: [{ sku: 'X', title: 't', quantity: 0, unitPrice: 19.9 }], channel: 'ebay' }));
      expect(res.status).toBe(400);
      const fields = (res.json?.errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['channel', 'lines.0.quantity', 'lines.0.unitPrice']));
    });

    it('caps the body size (413)', async () => {
      const huge = body({ buyerMessage: 'x'.repeat(2 * 1024 * 1024) });
      const res = await place(huge);
      expect(res.status).toBe(413);
    });
  });

  describe('reading orders', () => {
    it('an unknown id -> 404 ORDER_NOT_FOUND', async () => {
      const res = await call('GET', '/api/orders/01JDGZ6M3V8Q000000000NOPE0');
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    });

    it('GET returns state and revision with an ETag', async () => {
      const created = (await place(body())).json as OrderView;
      const res = await call('GET', `/api/orders/${created.orderId}`);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ orderId: created.orderId, stage: 'placed', revision: 0, flags: [] });
      expect(res.headers.get('etag')).toBe('"0"');
    });

    it('lists with filters and cursor pagination, newest first, page size at most 100 (above: 400)', async () => {
      const shopId = uniq('shop');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(((await place(body({ shopId, channel: 'jd' }))).json as OrderView).orderId);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { json: Json | null } = await call('GET', `/api/orders?channel=jd&stage=placed&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        const mine = (page.json?.orders as { orderId: string; shopId: string }[]).filter((o) => o.shopId === shopId);
        seen.push(...mine.map((o) => o.orderId));
        expect((page.json?.orders as unknown[]).length).toBeLessThanOrEqual(2);
        cursor = page.json?.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      // Out of range is refused naming the field (issue #11: never silently clamped); 100 is the cap.
      const tooBig = await call('GET', '/api/orders?limit=100000');
      expect(tooBig.status).toBe(400);
      expect(tooBig.json).toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'limit', constraint: 'max' })] });
      const capped = await call('GET', '/api/orders?limit=100');
      expect(capped.status).toBe(200);
      expect((capped.json?.orders as unknown[]).length).toBeLessThanOrEqual(100);
      expect((await call('GET', '/api/orders?cursor=garbage')).status).toBe(422);
      expect((await call('GET', '/api/orders?stage=lost')).status).toBe(400);
    });
  });

  describe('commands on an order', () => {
    it('payment must equal the amount due (422), then the order is paid', async () => {
      const o = (await place(body())).json as OrderView;
      const wrong = await call('POST', `/api/orders/${o.orderId}/payments`, { amount: 1 });
      expect(wrong.status).toBe(422);
      expect(wrong.json).toMatchObject({ code: 'PAYMENT_AMOUNT_MISMATCH' });
      const paid = await call('POST', `/api/orders/${o.orderId}/payments`, { amount: o.totals.grandTotal, paymentRef: 'ALIPAY-1' });
      expect(paid.status).toBe(200);
      expect(paid.json).toMatchObject({ stage: 'paid', revision: 1 });
      expect(paid.headers.get('etag')).toBe('"1"');
    });

    it("a platform's reported pay time is kept beside the recorded one; one without a zone or not a time is a 400 naming paidAt", async () => {
      const o = (await place(body())).json as OrderView;
      for (const paidAt of ['2025-11-25 16:00:12', '2025-11-25T16:00:12', 'yesterday']) {
        const bad = await call('POST', `/api/orders/${o.orderId}/payments`, { amount: o.totals.grandTotal, paidAt });
        expect(bad.status, paidAt).toBe(400);
        expect(JSON.stringify(bad.json), paidAt).toContain('paidAt');
      }
      const paid = await call('POST', `/api/orders/${o.orderId}/payments`, { amount: o.totals.grandTotal, paidAt: '2025-11-25T16:00:12+08:00' });
      expect(paid.status, JSON.stringify(paid.json)).toBe(200);
      const payment = (paid.json as OrderView).payment!;
      expect(payment.reportedPaidAt).toBe('2025-11-25T08:00:12.000Z');
      expect(Date.parse(payment.paidAt)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    });

    it('If-Match with a stale revision -> 412; with the current one the change applies', async () => {
      const o = (await place(body())).json as OrderView;
      await call('POST', `/api/orders/${o.orderId}/holds`, { reason: '核对地址' });
      const stale = await call('POST', `/api/orders/${o.orderId}/holds/release`, { reason: '地址已确认' }, { 'if-match': '"0"' });
      expect(stale.status).toBe(412);
      expect(stale.json).toMatchObject({ code: 'ORDER_VERSION_MISMATCH', details: { expected: 0, actual: 1 } });
      const fresh = await call('POST', `/api/orders/${o.orderId}/holds/release`, { reason: '地址已确认' }, { 'if-match': '"1"' });
      expect(fresh.status).toBe(200);
      expect(fresh.json).toMatchObject({ flags: [], revision: 2 });
    });

    it('an illegal command -> 409 with a stable code, stream untouched', async () => {
      const o = (await place(body())).json as OrderView;
      const res = await call('POST', `/api/orders/${o.orderId}/refunds`, { amount: 100, reason: 'x' });
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ code: 'ORDER_ILLEGAL_TRANSITION', details: { stage: 'placed', command: 'RequestRefund' } });
      expect((await call('GET', `/api/orders/${o.orderId}`)).json).toMatchObject({ revision: 0 });
    });

    it('a refund before shipment: requested in full, confirmed by finance -> refunded; nothing more is owed', async () => {
      const o = (await place(body())).json as OrderView;
      await call('POST', `/api/orders/${o.orderId}/payments`, { amount: o.totals.grandTotal });
      const partial = await call('POST', `/api/orders/${o.orderId}/refunds`, { amount: 100, reason: '不想要了' });
      expect(partial.status).toBe(422);
      expect(partial.json).toMatchObject({ code: 'REFUND_AMOUNT_INVALID' });
      const requested = await call('POST', `/api/orders/${o.orderId}/refunds`, { amount: o.totals.grandTotal, reason: '不想要了' });
      expect(requested.json).toMatchObject({ stage: 'paid', refund: { pending: { amount: o.totals.grandTotal } } });
      expect((await call('POST', `/api/orders/${o.orderId}/cancel`, { reason: 'x' })).json).toMatchObject({ code: 'ORDER_REFUND_PENDING' });
      const done = await call('POST', `/api/orders/${o.orderId}/refunds/confirm`, { amount: o.totals.grandTotal });
      expect(done.json).toMatchObject({ stage: 'refunded', refund: { pending: null, refundedTotal: o.totals.grandTotal } });
      expect((await call('POST', `/api/orders/${o.orderId}/refunds/confirm`, { amount: 1 })).status).toBe(409);
    });

    it('a retried command with the same Idempotency-Key applies once', async () => {
      const o = (await place(body())).json as OrderView;
      const first = await call('POST', `/api/orders/${o.orderId}/cancel`, { reason: '买家拍错' }, { 'idempotency-key': `cancel-${o.orderId}` });
      const again = await call('POST', `/api/orders/${o.orderId}/cancel`, { reason: '买家拍错' }, { 'idempotency-key': `cancel-${o.orderId}` });
      expect(first.status).toBe(200);
      expect(again.json).toEqual(first.json);
      expect(first.json).toMatchObject({ stage: 'cancelled', revision: 1 });
    });

    it('concurrent Cancel and ReleaseToFulfillment on a reserved order -> exactly one wins', async () => {
      // Reserved but not yet audited (the audit would release it in the same commit).
      const store = svc.app.get(PgOrderStore);
      for (let round = 0; round < 5; round++) {
        const o = (await place(body())).json as OrderView;
        await call('POST', `/api/orders/${o.orderId}/payments`, { amount: o.totals.grandTotal });
        await commitWithoutReactions(store, {
          type: 'RecordStockReserved',
          data: { orderId: o.orderId, reservationId: `R-${o.orderId}`, allocations: o.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-1', quantity: l.quantity })) },
          metadata: { commandId: `reserve-${o.orderId}`, correlationId: o.orderId, now: new Date().toISOString() },
        });
        // Two people acting on what they both saw: revision 2 (placed, paid, reserved).
        const seen = { 'if-match': '"2"' };
        const [cancel, release] = await Promise.all([
          call('POST', `/api/orders/${o.orderId}/cancel`, { reason: '客户取消' }, seen),
          call('POST', `/api/orders/${o.orderId}/release`, {}, seen),
        ]);
        const statuses = [cancel.status, release.status].sort();
        expect(statuses, JSON.stringify([cancel.json, release.json])).toEqual([200, 412]);
        const loser = cancel.status === 412 ? cancel : release;
        expect(loser.json).toMatchObject({ code: 'ORDER_VERSION_MISMATCH', details: { expected: 2 } });
        const final = (await call('GET', `/api/orders/${o.orderId}`)).json as OrderView;
        // Cancel appends one event; a release also records the rule decision that passed it.
        expect(final.revision).toBe(cancel.status === 200 ? 3 : 4);
        expect(final.stage).toBe(cancel.status === 200 ? 'cancelled' : 'ready_to_ship');
      }
    });

    it('release is refused when the rules do not pass the order (custom goods need approval)', async () => {
      const changes = svc.app.get(ChangeOrderHandler);
      const b = body({ lines: [{ ...lines({ category: 'custom', sku: 'ENGRAVED-CUP' })[0] }] });
      const o = (await place(b)).json as OrderView;
      await call('POST', `/api/orders/${o.orderId}/payments`, { amount: grandTotalOf(o.lines.length ? { lines: o.lines, shippingFee: o.totals.shippingFee, orderDiscount: o.totals.orderDiscount } : b) });
      await changes.execute({
        type: 'RecordStockReserved',
        data: { orderId: o.orderId, reservationId: 'R', allocations: o.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, warehouseId: 'WH-1', quantity: l.quantity })) },
        metadata: { commandId: `reserve-${o.orderId}`, correlationId: o.orderId, now: new Date().toISOString() },
      });
      const res = await call('POST', `/api/orders/${o.orderId}/release`, {});
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ code: 'ORDER_AUDIT_NOT_PASSED', details: { outcome: 'approval', ruleIds: ['approval-large-or-custom'] } });
      // The release takes no body at all, too.
      expect((await call('POST', `/api/orders/${o.orderId}/release`)).json).toMatchObject({ code: 'ORDER_AUDIT_NOT_PASSED' });
    });
  });

  it('serves the OpenAPI document with the orders API', async () => {
    const doc = (await call('GET', '/docs-json')).json as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/orders', '/api/orders/{orderId}', '/api/orders/{orderId}/payments', '/api/orders/{orderId}/cancel']));
  });
});
