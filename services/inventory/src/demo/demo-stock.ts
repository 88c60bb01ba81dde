/**
 * Demo stock, put into a running inventory service over its REST API: registers the SKUs the demo
 * orders (scripts/seed-demo.ts) use, with their rules, and receives their opening stock per
 * warehouse. Used by scripts/seed-inventory.ts. Idempotent: SKU rules are PUT (same body, same
 * result) and every receipt carries an Idempotency-Key derived from SKU and warehouse.
 */

export interface DemoSku {
  sku: string;
  name: string;
  /** Opening stock per warehouse (WH-SH 上海仓, WH-GZ 广州仓, WH-BJ 北京仓). */
  stock: Partial<Record<'WH-SH' | 'WH-GZ' | 'WH-BJ', number>>;
  allowBackorder?: boolean;
  safetyStock?: number;
  lowStockThreshold?: number;
  channels?: { channel: string; safetyStock?: number; sharePercent?: number }[];
}

/** Every shop gets all of available stock except Pinduoduo (half) and Douyin (2 units held back). */
const CHANNELS = [
  { channel: 'taobao' },
  { channel: 'tmall' },
  { channel: 'jd' },
  { channel: 'pinduoduo', sharePercent: 50 },
  { channel: 'douyin', safetyStock: 2 },
  { channel: 'web' },
  { channel: 'offline' },
];

/** The SKU codes seed-demo.ts orders, with enough stock for every demo order to reserve. */
export const DEMO_SKUS: DemoSku[] = [
  { sku: 'TEA-LJ-250', name: '明前西湖龙井 250g 罐装', stock: { 'WH-SH': 60, 'WH-GZ': 20 }, lowStockThreshold: 10 },
  { sku: 'TEA-PUER-357', name: '云南普洱熟茶饼 357g', stock: { 'WH-GZ': 40, 'WH-BJ': 10 }, safetyStock: 2 },
  { sku: 'TEA-TIEGUANYIN-250', name: '安溪铁观音 250g', stock: { 'WH-SH': 30 } },
  { sku: 'TEA-JASMINE-100', name: '茉莉花茶 100g', stock: { 'WH-BJ': 50 } },
  { sku: 'CUP-CELADON', name: '龙泉青瓷品茗杯', stock: { 'WH-SH': 24, 'WH-GZ': 24 } },
  { sku: 'POT-YIXING-200', name: '宜兴紫砂壶 200ml', stock: { 'WH-SH': 5 } },
  // Made to order: no stock, reservations become backorders.
  { sku: 'POT-YIXING-CUSTOM', name: '宜兴紫砂壶 定制刻字', stock: {}, allowBackorder: true },
  // The corporate gift order wants 120: one warehouse cannot fill it, so it is split by priority.
  { sku: 'GIFT-TEA-SET', name: '年会茶礼套装', stock: { 'WH-SH': 80, 'WH-GZ': 60, 'WH-BJ': 20 } },
  // Seasonal and nearly gone: a low-stock alert after the first orders.
  { sku: 'MOONCAKE-BOX', name: '流心奶黄月饼礼盒 8 枚', stock: { 'WH-SH': 30 }, lowStockThreshold: 50 },
  // Sold out: the demo's order for it waits for stock (缺货) until a receipt; then order-intake's
  // shortage retry (every minute, or 重新预占 on the console's inventory screen) reserves it.
  { sku: 'VASE-CELADON-30', name: '龙泉青瓷梅瓶 30cm', stock: {} },
];

async function call(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-correlation-id': 'seed-inventory', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export async function seedInventory(baseUrl: string = process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002', skus: DemoSku[] = DEMO_SKUS): Promise<{ skus: number; receipts: number }> {
  const base = baseUrl.replace(/\/$/, '');
  let receipts = 0;
  for (const s of skus) {
    await call(base, 'PUT', `/api/stock/skus/${encodeURIComponent(s.sku)}`, {
      name: s.name,
      allowBackorder: s.allowBackorder ?? false,
      safetyStock: s.safetyStock ?? 0,
      lowStockThreshold: s.lowStockThreshold ?? 0,
      channels: s.channels ?? CHANNELS,
    });
    for (const [warehouseId, quantity] of Object.entries(s.stock)) {
      await call(base, 'POST', '/api/stock/receipts', { sku: s.sku, warehouseId, quantity, reference: 'demo-opening-stock' }, { 'idempotency-key': `seed-${s.sku}-${warehouseId}` });
      receipts++;
    }
  }
  return { skus: skus.length, receipts };
}

