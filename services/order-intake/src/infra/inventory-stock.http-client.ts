import { serviceFetch, serviceTokenSourceFromEnv, type ClientCredentialsTokenSource } from '@flowline/auth';
import type { SkuStockNow } from '../domain/policies/shortage-retry.policy';
import type { StockAvailability } from '../application/shortage-retry.job';

/** What order-intake reads of inventory's `GET /api/stock/skus/{sku}`. */
interface SkuStockBody {
  rules?: { allowBackorder?: unknown };
  total?: { available?: unknown };
  warehouses?: { updatedAt?: unknown }[];
}

/**
 * Inventory's stock of a SKU through its public API (`GET /api/stock/skus/{sku}`), with
 * order-intake's client-credentials token (svc-order-intake, role integration: read Stock). A few
 * SKUs at a time; 404 (a SKU inventory does not know) leaves it out; any other failure fails the
 * whole read, so no order is retried on half the figures.
 */
export class InventoryStockHttpClient implements StockAvailability {
  private readonly tokens: ClientCredentialsTokenSource | undefined;

  constructor(
    private readonly inventoryUrl: string,
    env: NodeJS.ProcessEnv = process.env,
    private readonly concurrency = 4,
  ) {
    this.tokens = serviceTokenSourceFromEnv('order-intake', env);
  }

  async stockOf(skus: readonly string[]): Promise<Map<string, SkuStockNow>> {
    const out = new Map<string, SkuStockNow>();
    for (let i = 0; i < skus.length; i += this.concurrency) {
      const chunk = skus.slice(i, i + this.concurrency);
      const figures = await Promise.all(chunk.map((sku) => this.one(sku)));
      chunk.forEach((sku, k) => figures[k] && out.set(sku, figures[k]));
    }
    return out;
  }

  private async one(sku: string): Promise<SkuStockNow | undefined> {
    // A 401 is tried once more with a fresh token (serviceFetch).
    const res = await serviceFetch(this.tokens, `${this.inventoryUrl}/api/stock/skus/${encodeURIComponent(sku)}`, {
      headers: { accept: 'application/json' },
      timeoutMs: 10_000,
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`inventory answered ${res.status} for the stock of ${sku}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as SkuStockBody;
    const available = body.total?.available;
    if (typeof available !== 'number' || !Number.isFinite(available)) throw new Error(`inventory's stock of ${sku} has no total.available`);
    const times = (body.warehouses ?? []).map((w) => (typeof w.updatedAt === 'string' ? Date.parse(w.updatedAt) : NaN)).filter((t) => Number.isFinite(t));
    return { available, changedAt: times.length > 0 ? new Date(Math.max(...times)).toISOString() : null, ...(body.rules?.allowBackorder === true ? { backorder: true } : {}) };
  }
}
