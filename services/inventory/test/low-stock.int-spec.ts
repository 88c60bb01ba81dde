import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/** GET /api/stock/low-stock (the console's low-stock list): real PostgreSQL, one inventory process. */
describe('the low-stock list', () => {
  let c: InventoryCluster;

  beforeAll(async () => {
    c = await startInventoryCluster('inv_lowstock', 1);
    await c.rest('PUT', '/api/stock/skus/LOW-A', { name: '低库存 A', lowStockThreshold: 10 });
    await c.rest('PUT', '/api/stock/skus/LOW-B', { name: '低库存 B', lowStockThreshold: 5, safetyStock: 2 });
    await c.rest('PUT', '/api/stock/skus/OK-C', { name: '充足 C', lowStockThreshold: 3 });
    await c.rest('PUT', '/api/stock/skus/NONE-D', { name: '无阈值 D' });
    await c.rest('POST', '/api/stock/receipts', { sku: 'LOW-A', warehouseId: 'WH-SH', quantity: 4 });
    // 6 on hand minus 2 safety stock = 4 available < 5
    await c.rest('POST', '/api/stock/receipts', { sku: 'LOW-B', warehouseId: 'WH-SH', quantity: 6 });
    await c.rest('POST', '/api/stock/receipts', { sku: 'OK-C', warehouseId: 'WH-GZ', quantity: 30 });
  }, 120_000);

  afterAll(async () => {
    await c?.close();
  });

  it('lists the SKUs whose available is below their threshold, the largest shortfall first, as the SKU page computes available', async () => {
    const r = await c.rest('GET', '/api/stock/low-stock');
    expect(r.status).toBe(200);
    const mine = (r.body.items as { sku: string }[]).filter((i) => ['LOW-A', 'LOW-B', 'OK-C', 'NONE-D'].includes(i.sku));
    expect(mine).toEqual([
      { sku: 'LOW-A', name: '低库存 A', threshold: 10, available: 4, onHand: 4, reserved: 0, shortfall: 6 },
      { sku: 'LOW-B', name: '低库存 B', threshold: 5, available: 4, onHand: 6, reserved: 0, shortfall: 1 },
    ]);
    const b = await c.rest('GET', '/api/stock/skus/LOW-B');
    expect(b.body.total.available).toBe(4);
  });

  it('checks every SKU with a threshold, however large the catalogue (it stopped at the first 2,000 SKUs)', async () => {
    // 2,001 SKUs without a threshold that sort before LOW-A, LOW-B and OK-C.
    await c.pool.query(`INSERT INTO inventory.sku (sku, name) SELECT 'AAA-' || lpad(g::text, 5, '0'), 'filler' FROM generate_series(1, 2001) g`);
    try {
      const r = await c.rest('GET', '/api/stock/low-stock');
      expect(r.status).toBe(200);
      expect((r.body.items as { sku: string }[]).map((i) => i.sku)).toEqual(['LOW-A', 'LOW-B']);
      expect(r.body.checkedSkus).toBe(3);
    } finally {
      await c.pool.query(`DELETE FROM inventory.sku WHERE sku LIKE 'AAA-%'`);
    }
  });

  it('refuses a limit out of range naming the field', async () => {
    for (const limit of ['-1', '501', '2.5', 'x']) {
      const r = await c.rest('GET', `/api/stock/low-stock?limit=${limit}`);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain('limit');
    }
  });
});
