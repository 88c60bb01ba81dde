import { anOrderSubmission, createTestDatabase, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import type { RunningService } from '@flowline/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrderIntake } from './support/order-intake-app';

/**
 * Issue #9, must-show 7 (order-intake's part): probes that reached a 500 get a 400 naming the
 * field, nothing is stored, and the service keeps serving. Fullwidth digits cannot bypass the
 * (channel, channelOrderId) claim; an email holding '*' is still masked.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let svc: RunningService;

beforeAll(async () => {
  db = await createTestDatabase('order_intake_bad_input');
  svc = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
});

afterAll(async () => {
  await svc?.close();
  await db?.drop();
});

async function place(body: unknown, key = `bad-${uniqueSuffix()}`) {
  const res = await fetch(`${svc.httpUrl}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function countOrders(shopId: string): Promise<number> {
  const res = await fetch(`${svc.httpUrl}/api/orders?shopId=${encodeURIComponent(shopId)}&limit=100`);
  return ((await res.json()) as { orders: unknown[] }).orders.length;
}

describe('bad input to order-intake', () => {
  it('refuses NUL and lone surrogates in any string field with 400 naming the field; nothing stored; still serving', async () => {
    const shopId = `bad-shop-${uniqueSuffix()}`;
    const ok = anOrderSubmission({ shopId, channelOrderId: `BAD-${uniqueSuffix()}` });
    const probes: [string, unknown][] = [
      ['channelOrderId', { ...ok, channelOrderId: 'A\u0000B' }],
      ['customer.name', { ...ok, customer: { ...ok.customer, name: 'Zh\u0000ang' } }],
      ['customer.name', { ...ok, customer: { ...ok.customer, name: 'bad \ud800 text' } }],
      ['buyerMessage', { ...ok, buyerMessage: 'please \udc00 fast' }],
      ['lines.0.sku', { ...ok, lines: [{ ...ok.lines[0], sku: 'TEA\u0000' }] }],
    ];
    for (const [field, body] of probes) {
      const r = await place(body);
      expect(r.status, `${field}: ${r.text}`).toBe(400);
      expect(r.text, field).toContain(field);
    }
    expect(await countOrders(shopId)).toBe(0);
    expect((await place(ok)).status).toBe(201);
    expect(await countOrders(shopId)).toBe(1);
  });

  it('refuses a missing or non-object customer or shippingAddress with 400 naming the field (a missing one was a 500); nothing stored', async () => {
    const shopId = `missing-shop-${uniqueSuffix()}`;
    const ok = anOrderSubmission({ shopId, channelOrderId: `MISS-${uniqueSuffix()}` });
    const without = (field: 'customer' | 'shippingAddress') => Object.fromEntries(Object.entries(ok).filter(([k]) => k !== field));
    const probes: [string, unknown][] = [
      ['customer', without('customer')],
      ['shippingAddress', without('shippingAddress')],
      ['customer', { ...ok, customer: [] }],
      ['shippingAddress', { ...ok, shippingAddress: [] }],
    ];
    for (const [field, body] of probes) {
      const r = await place(body);
      expect(r.status, `${field}: ${r.text}`).toBe(400);
      expect((JSON.parse(r.text) as { errors: { field: string }[] }).errors.map((e) => e.field), r.text).toContain(field);
    }
    expect(await countOrders(shopId)).toBe(0);
  });

  it("answers a long path id in the API's own error format: 404 up to the id rule's 128 characters, 400 naming the parameter beyond (Fastify's raw 414 before)", async () => {
    for (const [length, status] of [[110, 404], [128, 404], [300, 400]] as const) {
      const res = await fetch(`${svc.httpUrl}/api/orders/${'A'.repeat(length)}`);
      const text = await res.text();
      expect(res.status, `${length}: ${text}`).toBe(status);
      expect(res.headers.get('content-type'), String(length)).toContain('application/problem+json');
      expect(text).not.toContain('FST_ERR');
    }
  });

  it('normalises identifiers (NFKC): a fullwidth channelOrderId is the same order, not a second one', async () => {
    const shopId = `nfkc-shop-${uniqueSuffix()}`;
    const digits = String(Date.now()).slice(-10);
    const fullwidth = Array.from(digits, (d) => String.fromCharCode(0xff10 + Number(d))).join('');
    const first = await place(anOrderSubmission({ shopId, channelOrderId: `33${digits}` }));
    const second = await place(anOrderSubmission({ shopId, channelOrderId: `３３${fullwidth}` }));
    expect(first.status).toBe(201);
    expect(second.status).toBeLessThan(300);
    expect((JSON.parse(second.text) as { orderId: string }).orderId).toBe((JSON.parse(first.text) as { orderId: string }).orderId);
    expect(await countOrders(shopId)).toBe(1);
  });

  it('refuses a designatedCarrier that is not a carrier code and a unit weight that is not whole positive grams (400 naming the field); accepts good ones (#12)', async () => {
    const shopId = `carrier-shop-${uniqueSuffix()}`;
    const ok = anOrderSubmission({ shopId, channelOrderId: `CW-${uniqueSuffix()}` });
    const probes: [string, unknown][] = [
      ['designatedCarrier', { ...ok, designatedCarrier: 'sf express' }],
      ['designatedCarrier', { ...ok, designatedCarrier: 42 }],
      ['lines.0.unitWeightGrams', { ...ok, lines: [{ ...ok.lines[0], unitWeightGrams: 0 }] }],
      ['lines.0.unitWeightGrams', { ...ok, lines: [{ ...ok.lines[0], unitWeightGrams: 2.5 }] }],
      ['lines.0.unitWeightGrams', { ...ok, lines: [{ ...ok.lines[0], unitWeightGrams: 2_000_000 }] }],
    ];
    for (const [field, body] of probes) {
      const r = await place(body);
      expect(r.status, `${field}: ${r.text}`).toBe(400);
      expect(r.text, field).toContain(field);
    }
    expect(await countOrders(shopId)).toBe(0);
    const good = await place({ ...ok, designatedCarrier: 'SF', lines: [{ ...ok.lines[0], unitWeightGrams: 260 }] });
    expect(good.status, good.text).toBe(201);
  });

  it('refuses recipientProtection lists that are not lists (a number, an object) with 400 naming them, not a 500', async () => {
    const shopId = `rp-shop-${uniqueSuffix()}`;
    const ok = anOrderSubmission({ shopId, channelOrderId: `RP-${uniqueSuffix()}` });
    for (const [field, value] of [['masked', 5], ['encrypted', { a: 1 }], ['withheld', 1.5]] as const) {
      const r = await place({ ...ok, recipientProtection: { [field]: value } });
      expect(r.status, `${field}: ${r.text}`).toBe(400);
      expect(r.text).toContain(`recipientProtection.${field}`);
    }
    expect(await countOrders(shopId)).toBe(0);
  });

  it("masks an email holding '*' like any other", async () => {
    const sub = anOrderSubmission({ channelOrderId: `MASK-${uniqueSuffix()}` });
    const r = await place({ ...sub, customer: { ...sub.customer, email: 'zhang*san@example.com' } });
    expect(r.status, r.text).toBe(201);
    expect(r.text).not.toContain('zhang*san');
    expect(r.text).toContain('z***@example.com');
  });
});
