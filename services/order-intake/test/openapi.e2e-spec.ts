import type { RunningService } from '@flowline/platform';
import { anOrderSubmission, createTestDatabase, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// RFC 9457 problem details, with the gRPC ErrorInfo's reason and domain as `code` and `domain` (message: deprecated alias of detail).
const PROBLEM_MEMBERS = ['type', 'title', 'status', 'detail', 'instance', 'code', 'domain', 'details', 'errors', 'message'];
import { startOrderIntake } from './support/order-intake-app';

// The OpenAPI document (/docs-json) against the running service: every REST endpoint documents
// its success response with a schema, its error bodies and its headers, and the documented
// schemas have the properties the real responses carry.

type Json = Record<string, any>;
type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[]; allOf?: Schema[]; nullable?: boolean; enum?: unknown[] };

describe('order-intake OpenAPI document', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let doc: { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Schema> } };
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_openapi');
    svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
    doc = (await (await fetch(`${svc.httpUrl}/docs-json`)).json()) as typeof doc;
  });

  afterAll(async () => {
    await svc?.close();
    await db?.drop();
  });

  async function call(method: string, path: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${svc.httpUrl}${path}`, {
      method,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : null };
  }

  /** The component a schema points at ($ref, or a nullable allOf wrapper around one). */
  function resolve(s: Schema | undefined): Schema {
    if (!s) throw new Error('no schema');
    const ref = s.$ref ?? s.allOf?.find((x) => x.$ref)?.$ref;
    if (!ref) return s;
    const name = ref.replace('#/components/schemas/', '');
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`schema ${name} is referenced but not defined`);
    return target;
  }

  const responseSchema = (path: string, method: string, status: number): Schema | undefined =>
    doc.paths[path]?.[method]?.responses?.[String(status)]?.content?.[status >= 400 ? 'application/problem+json' : 'application/json']?.schema as Schema | undefined;

  /** Every key of a real body is documented, and every documented required key is present. */
  function expectMatches(body: Json, schema: Schema, where: string) {
    const props = schema.properties ?? {};
    expect(Object.keys(body).filter((k) => !(k in props)), `${where}: undocumented keys`).toEqual([]);
    expect((schema.required ?? []).filter((k) => !(k in body)), `${where}: required keys missing`).toEqual([]);
    for (const [k, v] of Object.entries(body)) {
      const p = props[k];
      if (v === null) {
        expect(p.nullable ?? false, `${where}.${k} is null but not nullable`).toBe(true);
      } else if (Array.isArray(v)) {
        expect(p.type, `${where}.${k}`).toBe('array');
        const items = p.items ? resolve(p.items) : undefined;
        if (items?.properties) for (const [i, el] of v.entries()) expectMatches(el as Json, items, `${where}.${k}.${i}`);
      } else if (typeof v === 'object') {
        const nested = resolve(p);
        if (nested.properties) expectMatches(v as Json, nested, `${where}.${k}`);
      }
    }
  }

  const ENDPOINTS: [string, string, number][] = [
    ['/api/orders', 'post', 201],
    ['/api/orders', 'get', 200],
    ['/api/orders/{orderId}', 'get', 200],
    ['/api/orders/{orderId}/payments', 'post', 200],
    ['/api/orders/{orderId}/cancel', 'post', 200],
    ['/api/orders/{orderId}/refunds', 'post', 200],
    ['/api/orders/{orderId}/refunds/confirm', 'post', 200],
    ['/api/orders/{orderId}/holds', 'post', 200],
    ['/api/orders/{orderId}/holds/release', 'post', 200],
    ['/api/orders/{orderId}/exceptions/resolve', 'post', 200],
    ['/api/orders/{orderId}/release', 'post', 200],
  ];

  it('documents every REST endpoint of the service (no more, no fewer)', () => {
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/orders'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.sort()).toEqual([...ENDPOINTS.map(([p, m]) => `${m} ${p}`), 'post /api/orders/{orderId}/pii-reveals', 'post /api/orders/shortages/retry'].sort());
  });

  it('POST /api/orders/shortages/retry documents its answer, and answers with that shape (nothing waiting here) or 400 naming a bad sku', async () => {
    const op = doc.paths['/api/orders/shortages/retry'].post as Json;
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '503']));
    const schema = resolve(responseSchema('/api/orders/shortages/retry', 'post', 200));
    expect(resolve(resolve(schema.properties?.waiting).items).properties?.reason.enum).toEqual(['not_enough_stock', 'stock_unchanged', 'unknown_sku', 'retry_later']);
    const none = await call('POST', '/api/orders/shortages/retry', { sku: 'NOBODY-WAITS-FOR-THIS' });
    expect(none).toEqual({ status: 200, json: { retried: [], waiting: [], skipped: [], candidates: 0 } });
    expectMatches(none.json!, schema, 'shortages/retry 200');
    const bad = await call('POST', '/api/orders/shortages/retry', { sku: 'TAB\tIN-SKU' });
    expect(bad.status).toBe(400);
    expect(bad.json!.errors.map((e: Json) => e.field)).toEqual(['sku']);
  });

  it('POST /api/orders/{orderId}/pii-reveals documents the reason, the fields it may unmask and the unmasked answer (201)', () => {
    const schema = resolve(responseSchema('/api/orders/{orderId}/pii-reveals', 'post', 201));
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['orderId', 'fields', 'customer', 'shippingAddress', 'revision', 'revealedAt']));
    expect(schema.properties?.fields.items?.enum).toEqual(['customer.name', 'customer.phone', 'shippingAddress.recipient', 'shippingAddress.phone', 'shippingAddress.street']);
    const op = doc.paths['/api/orders/{orderId}/pii-reveals'].post as Json;
    const body = resolve(op.requestBody.content['application/json'].schema);
    expect(body.required).toEqual(['reason']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '400', '404']));
  });

  it.each(ENDPOINTS)('%s %s: the success response has a schema with the real shape', (path, method, status) => {
    const schema = resolve(responseSchema(path, method, status));
    expect(schema.type).toBe('object');
    const listing = path === '/api/orders' && method === 'get';
    if (listing) {
      expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['orders', 'nextCursor']));
      expect(schema.properties?.nextCursor.nullable).toBe(true);
      const row = resolve(schema.properties?.orders.items);
      expect(Object.keys(row.properties ?? {})).toEqual(expect.arrayContaining(['orderId', 'stage', 'onHold', 'inException', 'revision', 'grandTotal']));
    } else {
      expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['orderId', 'stage', 'flags', 'revision', 'totals', 'lines', 'customer', 'hold', 'exception']));
      expect(schema.properties?.stage.enum).toEqual(expect.arrayContaining(['placed', 'delivered', 'archived', 'refunded']));
      expect(schema.properties?.flags.items?.enum).toEqual(['on_hold', 'exception']);
      expect(Object.keys(resolve(schema.properties?.totals).properties ?? {})).toEqual(['itemsTotal', 'shippingFee', 'orderDiscount', 'grandTotal', 'currency']);
      expect(Object.keys(resolve(schema.properties?.lines.items).properties ?? {})).toEqual(expect.arrayContaining(['lineId', 'sku', 'quantity', 'unitPrice', 'lineDiscount']));
    }
  });

  it('POST /api/orders documents Idempotency-Key as a required header, 200 for an existing channel order, 400 and 422 bodies', () => {
    const op = doc.paths['/api/orders'].post;
    const header = (op.parameters as Json[]).find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
    expect(header).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(header?.description).toContain('IDEMPOTENCY_KEY_REUSED');
    expect(resolve(responseSchema('/api/orders', 'post', 200))).toBe(resolve(responseSchema('/api/orders', 'post', 201)));
    expect(Object.keys(op.responses['201'].headers)).toEqual(expect.arrayContaining(['ETag', 'Location', 'Idempotent-Replayed']));
    const invalid = resolve(responseSchema('/api/orders', 'post', 400));
    expect(Object.keys(resolve(invalid.properties?.errors.items).properties ?? {})).toEqual(['field', 'constraint', 'message']);
    // RFC 9457 problem details, with the gRPC ErrorInfo's reason and domain as `code` and `domain`.
    expect(Object.keys(invalid.properties ?? {})).toEqual(PROBLEM_MEMBERS);
    expect(Object.keys(resolve(responseSchema('/api/orders', 'post', 422)).properties ?? {})).toEqual(PROBLEM_MEMBERS);
    expect(op.responses['413']).toBeDefined();
  });

  it('every command on an order documents Idempotency-Key, If-Match and its 400 / 404 / 409 / 412 / 422 bodies', () => {
    for (const [path, method] of ENDPOINTS.filter(([p, m]) => m === 'post' && p !== '/api/orders')) {
      const op = doc.paths[path][method];
      const headers = (op.parameters as Json[]).filter((p) => p.in === 'header').map((p) => p.name);
      expect(headers, path).toEqual(expect.arrayContaining(['Idempotency-Key', 'If-Match']));
      expect(Object.keys(op.responses['200'].headers), path).toEqual(expect.arrayContaining(['ETag', 'Idempotent-Replayed']));
      expect(Object.keys(resolve(responseSchema(path, method, 400)).properties ?? {}), path).toContain('errors');
      for (const status of [404, 409, 422]) expect(Object.keys(resolve(responseSchema(path, method, status)).properties ?? {}), `${path} ${status}`).toEqual(PROBLEM_MEMBERS);
      const mismatch = resolve(responseSchema(path, method, 412));
      expect(Object.keys(resolve(mismatch.properties?.details).properties ?? {}), path).toEqual(['orderId', 'expected', 'actual']);
    }
    expect(Object.keys(resolve(responseSchema('/api/orders/{orderId}', 'get', 404)).properties ?? {})).toEqual(PROBLEM_MEMBERS);
    expect(doc.paths['/api/orders/{orderId}'].get.responses['200'].headers.ETag).toBeDefined();
  });

  it('the real responses have the documented shapes (order, page, 400, 404, 409, 412, 422)', async () => {
    const submission = anOrderSubmission({ channelOrderId: `TM-OAS-${Date.now()}-${++seq}` });
    const placed = await call('POST', '/api/orders', submission, { 'idempotency-key': `oas-${Date.now()}-${seq}` });
    expect(placed.status).toBe(201);
    expectMatches(placed.json!, resolve(responseSchema('/api/orders', 'post', 201)), 'POST /api/orders 201');
    const id = placed.json!.orderId as string;

    const held = await call('POST', `/api/orders/${id}/holds`, { reason: '核实收货人' }, { 'if-match': '"0"' });
    expect(held.status).toBe(200);
    expect(held.json!.hold).not.toBeNull();
    expectMatches(held.json!, resolve(responseSchema('/api/orders/{orderId}/holds', 'post', 200)), 'holds 200');

    const page = await call('GET', '/api/orders?limit=1');
    expect(page.status).toBe(200);
    expectMatches(page.json!, resolve(responseSchema('/api/orders', 'get', 200)), 'GET /api/orders 200');

    const invalid = await call('POST', `/api/orders/${id}/payments`, { amount: -1, status: 'paid' });
    expect(invalid.status).toBe(400);
    expectMatches(invalid.json!, resolve(responseSchema('/api/orders/{orderId}/payments', 'post', 400)), 'payments 400');

    const missing = await call('GET', '/api/orders/01JDGZ6M3V8Q000000000NOPE0');
    expect(missing.status).toBe(404);
    expectMatches(missing.json!, resolve(responseSchema('/api/orders/{orderId}', 'get', 404)), 'GET 404');

    const refused = await call('POST', `/api/orders/${id}/refunds`, { amount: 100, reason: 'x' });
    expect(refused.status).toBe(409);
    expectMatches(refused.json!, resolve(responseSchema('/api/orders/{orderId}/refunds', 'post', 409)), 'refunds 409');

    const stale = await call('POST', `/api/orders/${id}/holds/release`, { reason: 'ok' }, { 'if-match': '"0"' });
    expect(stale.status).toBe(412);
    expectMatches(stale.json!, resolve(responseSchema('/api/orders/{orderId}/holds/release', 'post', 412)), 'release 412');

    const wrongAmount = await call('POST', `/api/orders/${id}/payments`, { amount: 1 });
    expect([409, 422]).toContain(wrongAmount.status);
    const badCursor = await call('GET', '/api/orders?cursor=nonsense');
    expect(badCursor.status).toBe(422);
    expectMatches(badCursor.json!, resolve(responseSchema('/api/orders', 'get', 422)), 'GET 422');
  });
});
