import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InventoryStockHttpClient } from './inventory-stock.http-client';

/** inventory's GET /api/stock/skus/{sku} as it answers (only the fields order-intake reads matter). */
async function inventoryWith(answers: Record<string, { status: number; body: unknown }>): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const sku = decodeURIComponent((req.url ?? '').replace('/api/stock/skus/', ''));
    const a = answers[sku] ?? { status: 404, body: { code: 'SKU_NOT_FOUND' } };
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

const level = (warehouseId: string, available: number, updatedAt?: string) => ({ sku: 'x', warehouseId, onHand: available, reserved: 0, available, ...(updatedAt ? { updatedAt } : {}) });

describe('InventoryStockHttpClient (inventory GET /api/stock/skus/{sku})', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('reads the total available and the latest change of any warehouse; a SKU inventory does not know is left out', async () => {
    const inv = await inventoryWith({
      'VASE/01': { status: 200, body: { sku: 'VASE/01', total: { available: 7 }, warehouses: [level('hz', 3, '2026-12-07T08:00:00.000Z'), level('sh', 4, '2026-12-07T09:30:00.000Z')] } },
      CUP: { status: 200, body: { sku: 'CUP', total: { available: 0 }, warehouses: [] } },
    });
    server = inv.server;
    const stock = await new InventoryStockHttpClient(inv.url, {}).stockOf(['VASE/01', 'CUP', 'NEW-1']);
    expect(Object.fromEntries(stock)).toEqual({ 'VASE/01': { available: 7, changedAt: '2026-12-07T09:30:00.000Z' }, CUP: { available: 0, changedAt: null } });
    expect(inv.paths.sort()).toEqual(['GET /api/stock/skus/CUP', 'GET /api/stock/skus/NEW-1', 'GET /api/stock/skus/VASE%2F01']);
  });

  it('fails the whole read on any other answer, so no order is retried on half the figures', async () => {
    const inv = await inventoryWith({ A: { status: 200, body: { total: { available: 1 }, warehouses: [] } }, B: { status: 503, body: { code: 'NOT_READY' } } });
    server = inv.server;
    await expect(new InventoryStockHttpClient(inv.url, {}).stockOf(['A', 'B'])).rejects.toThrow(/503 for the stock of B/);
  });
});
