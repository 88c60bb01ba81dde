/**
 * A seeded, reproducible history of orders for the analytics demo (issue #19): six months of
 * orders, with weekly seasonality, peak hours, a growing trend, 6.18 and 11.11 peaks, the Spring
 * Festival dip, repeat customers, SKUs bought together, a few unpaid orders and refunds, written
 * through the real order-intake REST API (placed with their historical `placedAt`, then paid,
 * some refunded), so every service sees them as it sees any order.
 *
 *   OIDC_ISSUER=http://127.0.0.1:4400 node -r @swc-node/register -r ./scripts/oidc/bearer-preload.cjs scripts/demo-history.ts [--days 182] [--per-day 12] [--seed 19] [--end 2025-11-24] [--dry-run] [--json]
 *   DEMO_HISTORY=1 npm start        # scripts/seed-demo.ts runs it after the demo orders
 *
 * Same seed, same orders, byte for byte: every request carries an Idempotency-Key derived from the
 * seed and the order's number, so a re-run changes nothing. Before the orders it receives enough
 * stock for them (receipts keyed by seed, SKU and warehouse), so they reserve instead of ending in
 * shortages. ORDER_INTAKE_URL / INVENTORY_URL say where the services listen; the preload gives its
 * requests the local issuer's demo admin token (every service requires one, issue #16).
 */
import { DEMO_SKUS, seedInventory } from '../services/inventory/src/demo/demo-stock';
import { DEFAULT_HISTORY, generateHistory, historyStart, unitsPerSku, type HistoryOptions, type HistoryOrder } from '../services/analytics/src/demo/history';

export { DEFAULT_HISTORY, generateHistory, unitsPerSku, type HistoryOptions, type HistoryOrder };

async function post(base: string, path: string, body: unknown, key: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-correlation-id': key }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Writes the history through order-intake (and its stock through inventory). Returns counts. */
export async function seedHistory(options: HistoryOptions = DEFAULT_HISTORY, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<{ orders: number; paid: number; refunded: number; failed: number }> {
  const intake = (process.env.ORDER_INTAKE_URL ?? 'http://127.0.0.1:3001').replace(/\/$/, '');
  const inventory = (process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002').replace(/\/$/, '');
  const history = generateHistory(options);
  // The SKUs and their rules (idempotent; seed-demo.ts did it already when it runs us).
  await seedInventory(inventory);
  // Stock for every unit sold (plus a margin), split over the SKU's demo warehouses.
  const demoSkus = new Map(DEMO_SKUS.map((s) => [s.sku, s]));
  for (const [sku, units] of unitsPerSku(history)) {
    const warehouses = Object.keys(demoSkus.get(sku)?.stock ?? {});
    const list = warehouses.length ? warehouses : ['WH-SH'];
    for (const [k, warehouseId] of list.entries()) {
      const quantity = Math.ceil((units * 1.2) / list.length) + (k === 0 ? 10 : 0);
      const r = await post(inventory, '/api/stock/receipts', { sku, warehouseId, quantity, reference: `demo-history-${options.seed}` }, `history-${options.seed}-${options.days}-${options.perDay}-${sku}-${warehouseId}`);
      if (r.status >= 300) throw new Error(`stock receipt ${sku}@${warehouseId}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
  let done = 0;
  let paid = 0;
  let refunded = 0;
  let failed = 0;
  const key = (h: HistoryOrder) => `history:${options.seed}:${h.n}`;
  async function one(h: HistoryOrder): Promise<void> {
    const placed = await post(intake, '/api/orders', h.order, key(h));
    if (placed.status !== 200 && placed.status !== 201) {
      failed++;
      if (failed <= 5) log(`order ${h.n} refused: ${placed.status} ${JSON.stringify(placed.body).slice(0, 200)}`);
      return;
    }
    const orderId = String(placed.body.orderId);
    const total = (placed.body.totals as { grandTotal: number }).grandTotal;
    if (h.pay) {
      const r = await post(intake, `/api/orders/${orderId}/payments`, { amount: total, paymentRef: `HIST-${h.order.channelOrderId}` }, `${key(h)}:pay`);
      if (r.status === 200 || r.status === 409) paid++;
      else failed++;
    }
    if (h.refund) {
      const asked = await post(intake, `/api/orders/${orderId}/refunds`, { amount: total, reason: '买家申请退款（演示历史）' }, `${key(h)}:refund`);
      const confirmed = asked.status === 200 ? await post(intake, `/api/orders/${orderId}/refunds/confirm`, { amount: total }, `${key(h)}:refund-confirm`) : asked;
      if (confirmed.status === 200) refunded++;
    }
  }
  // A few requests in flight: fast enough (minutes for six months), gentle on a 2-core machine.
  const queue = [...history];
  const workers = Array.from({ length: 6 }, async () => {
    for (let h = queue.shift(); h; h = queue.shift()) {
      await one(h);
      done++;
      if (done % 500 === 0) log(`demo history: ${done}/${history.length} orders`);
    }
  });
  await Promise.all(workers);
  log(`demo history: ${history.length} orders from ${historyStart(options)} to ${options.end} (seed ${options.seed}): ${paid} paid, ${refunded} refunded, ${failed} failed`);
  return { orders: history.length, paid, refunded, failed };
}

function parseArgs(argv: string[]): HistoryOptions & { dryRun: boolean; json: boolean } {
  const o = { ...DEFAULT_HISTORY, dryRun: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--days') o.days = Number(v());
    else if (a === '--per-day') o.perDay = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--end') o.end = v();
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!(o.days > 0 && o.perDay > 0 && Number.isInteger(o.seed) && /^\d{4}-\d{2}-\d{2}$/.test(o.end))) throw new Error('--days and --per-day > 0, --seed an integer, --end YYYY-MM-DD');
  return o;
}

if (require.main === module) {
  (async () => {
    const o = parseArgs(process.argv.slice(2));
    if (o.dryRun) {
      const h = generateHistory(o);
      process.stdout.write(`${JSON.stringify({ orders: h.length, first: h[0]?.order.placedAt, last: h[h.length - 1]?.order.placedAt, units: Object.fromEntries(unitsPerSku(h)) }, null, 2)}\n`);
      return;
    }
    const r = await seedHistory(o, o.json ? (l) => process.stderr.write(`${l}\n`) : undefined);
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (r.failed > 0) process.exit(1);
  })().catch((e: unknown) => {
    process.stderr.write(`demo-history failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
