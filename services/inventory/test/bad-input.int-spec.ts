import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/**
 * Issue #9, must-show 7 (inventory's part): a receipt of 1e20 units (int4 columns), NUL and lone
 * surrogates get 400 naming the field; nothing is stored; the service keeps serving.
 */
let c: InventoryCluster;

beforeAll(async () => {
  c = await startInventoryCluster('inv_bad_input', 1);
  expect((await c.rest('PUT', '/api/stock/warehouses/WH-BAD', { name: 'bad input', priority: 1 })).status).toBe(200);
  expect((await c.rest('PUT', '/api/stock/skus/SKU-BAD-1', { name: 'probe' })).status).toBe(200);
});

afterAll(async () => {
  await c?.close();
});

describe('bad input to inventory', () => {
  it('refuses out-of-range integers, NUL and invalid Unicode with 400 naming the field, stores nothing, keeps serving', async () => {
    const ok = { sku: 'SKU-BAD-1', warehouseId: 'WH-BAD', quantity: 5, reference: 'PO-1' };
    const probes: [string, string, string, unknown][] = [
      ['quantity', 'POST', '/api/stock/receipts', { ...ok, quantity: 1e20 }],
      ['quantity', 'POST', '/api/stock/receipts', { ...ok, quantity: 2_147_483_648 }],
      ['warehouseId', 'POST', '/api/stock/receipts', { ...ok, warehouseId: 'WH\u0000BAD' }],
      ['reference', 'POST', '/api/stock/receipts', { ...ok, reference: 'PO \ud800' }],
      ['delta', 'POST', '/api/stock/adjustments', { sku: 'SKU-BAD-1', warehouseId: 'WH-BAD', delta: -1e20, reason: 'count' }],
      ['name', 'PUT', '/api/stock/skus/SKU-BAD-1', { name: 'tea\u0000' }],
      ['safetyStock', 'PUT', '/api/stock/skus/SKU-BAD-1', { name: 'tea', safetyStock: 1e12 }],
    ];
    for (const [field, method, path, body] of probes) {
      const r = await c.rest(method, path, body);
      expect(r.status, `${field}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(JSON.stringify(r.body), field).toContain(field);
    }
    // Nothing stored: the SKU in the warehouse still has no stock, and its rules are unchanged.
    const before = await c.rest('GET', '/api/stock/skus/SKU-BAD-1/warehouses/WH-BAD');
    expect(JSON.stringify(before.body)).not.toMatch(/"onHand":[1-9]/);
    expect(JSON.stringify((await c.rest('GET', '/api/stock/skus/SKU-BAD-1')).body)).not.toContain('tea');
    const good = await c.rest('POST', '/api/stock/receipts', ok);
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    const after = await c.rest('GET', '/api/stock/skus/SKU-BAD-1/warehouses/WH-BAD');
    expect(JSON.stringify(after.body)).toContain('"onHand":5');
  });
});
