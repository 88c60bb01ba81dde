/**
 * Opening stock for the system workloads: through inventory's own API on the Flowline side
 * (register the SKU, receive goods into WH-SH), through the baseline's stock endpoint on the other.
 */
import { expectOk, HttpClient } from './http';

export const WAREHOUSE = 'WH-SH';

/** Registers each SKU (idempotent PUT) and receives goods until `minAvailable` units are free. */
export async function ensureFlowlineStock(inventoryUrl: string, skus: readonly string[], minAvailable: number): Promise<void> {
  const http = new HttpClient(inventoryUrl, 16);
  try {
    const one = async (sku: string) => {
      expectOk(await http.put(`/api/stock/skus/${encodeURIComponent(sku)}`, { name: `bench ${sku}` }), `register ${sku}`);
      const level = expectOk(await http.get<{ total?: { available?: number } }>(`/api/stock/skus/${encodeURIComponent(sku)}`), `stock of ${sku}`);
      const available = level.body.total?.available ?? 0;
      if (available < minAvailable) {
        expectOk(await http.post('/api/stock/receipts', { sku, warehouseId: WAREHOUSE, quantity: minAvailable * 2 - available, reference: 'bench' }), `receipt ${sku}`);
      }
    };
    for (let i = 0; i < skus.length; i += 16) await Promise.all(skus.slice(i, i + 16).map(one));
  } finally {
    http.close();
  }
}

/** Sets the baseline's stock row of each SKU to `onHand`. */
export async function setBaselineStock(baselineUrl: string, skus: readonly string[], onHand: number): Promise<void> {
  const http = new HttpClient(baselineUrl, 16);
  try {
    for (let i = 0; i < skus.length; i += 16) {
      await Promise.all(skus.slice(i, i + 16).map(async (sku) => expectOk(await http.post(`/api/stock/${encodeURIComponent(sku)}`, { onHand }), `baseline stock ${sku}`)));
    }
  } finally {
    http.close();
  }
}
