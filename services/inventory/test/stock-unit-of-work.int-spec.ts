import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryTestDatabase } from './support/inventory-db';
import type { InventoryCommand } from '../src/application/inventory-commands';

describe('stock unit of work (real PostgreSQL, two instances)', () => {
  let t: Awaited<ReturnType<typeof inventoryTestDatabase>>;

  beforeAll(async () => {
    t = await inventoryTestDatabase('inv_uow');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function sku(sku: string, extra: Partial<{ allowBackorder: boolean; safetyStock: number; lowStockThreshold: number }> = {}) {
    await t.store.upsertSku({ sku, name: sku, allowBackorder: false, safetyStock: 0, lowStockThreshold: 0, channelRules: [{ channel: 'tmall' }], ...extra });
  }

  it('200 concurrent one-unit orders against 50 units, two instances: exactly 50 reserved, 150 shortages', async () => {
    await sku('HOT-1');
    const a = t.instance();
    const b = t.instance();
    await a.execute([{ type: 'ReceiveStock', meta: t.meta(), sku: 'HOT-1', warehouseId: 'WH-SH', quantity: 50 }]);
    const commands: InventoryCommand[] = Array.from({ length: 200 }, (_, i) => ({
      type: 'ReserveStock',
      meta: t.meta(),
      orderId: `hot-o${i}`,
      reservationId: `r-${i}`,
      channel: 'tmall',
      lines: [{ lineId: '1', sku: 'HOT-1', quantity: 1 }],
    }));
    // Batches of uneven size, each instance running up to 3 batches at once.
    const batches: InventoryCommand[][] = [];
    for (let i = 0, size = 7; i < commands.length; i += size, size = (size * 3) % 17 + 3) batches.push(commands.slice(i, i + size));
    const results = (await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).execute(batch)))).flat();
    const kinds = results.map((r) => (r.status === 'applied' && r.outcome.kind === 'reservation' ? r.outcome.result.kind : r.status));
    expect(kinds.filter((k) => k === 'reserved')).toHaveLength(50);
    expect(kinds.filter((k) => k === 'shortage')).toHaveLength(150);
    const row = (await t.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = 'HOT-1'`)).rows[0];
    expect(row).toEqual({ on_hand: 50, reserved: 50 });
    const lines = (await t.pool.query(`SELECT count(*)::int AS n, sum(quantity)::int AS q FROM inventory.reservation_line WHERE sku = 'HOT-1'`)).rows[0];
    expect(lines).toEqual({ n: 50, q: 50 });
    const stream = await t.events.readStream('stock-HOT-1@WH-SH');
    expect(stream.filter((e) => e.type === 'StockLineReserved')).toHaveLength(50);
    expect(stream.map((e) => e.streamPosition)).toEqual(stream.map((_, i) => i));
  });
});
