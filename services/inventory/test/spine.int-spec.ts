import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/**
 * Issue #9 (spine reliability), inventory's must-shows on one inventory process (one boot):
 * - bad input (must-show 7): a receipt of 1e20 units (int4 columns), NUL and lone surrogates get
 *   400 naming the field; nothing is stored; the service keeps serving.
 * - a shipment after a release (must-show 3): an order cancelled while packed whose parcel ships
 *   anyway. CommitStock after the release used to be refused (RESERVATION_NOT_OPEN) and only
 *   logged, leaving shipped units in on_hand; now on_hand drops by the quantity, the reservation
 *   ends committed, and ledger verify stays clean. When the units shipped were meanwhile reserved by
 *   another order, available goes negative and inventory publishes the stock exception
 *   StockWentNegative (keyed by the shipped order) on inventory.events.v1.
 */
let c: InventoryCluster;

beforeAll(async () => {
  c = await startInventoryCluster('inv_spine', 1);
  expect((await c.rest('PUT', '/api/stock/warehouses/WH-BAD', { name: 'bad input', priority: 1 })).status).toBe(200);
  expect((await c.rest('PUT', '/api/stock/skus/SKU-BAD-1', { name: 'probe' })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await c?.close();
});

async function level(code: string, warehouseId = 'WH-SH') {
  return (await c.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = $1 AND warehouse_id = $2`, [code, warehouseId])).rows[0];
}

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

describe("a seller's own SKU codes", () => {
  it('stocks, reads back by path and reserves codes with Chinese, `/`, `*` and spaces, as order-intake takes them; refuses a tab naming sku', async () => {
    // Real 商家编码: order-intake accepted these on order lines while inventory refused to stock
    // them, so such an order could only end in STOCK_SHORTAGE.
    for (const sku of ['A01/红色/XL', 'LJ250*2', 'TS01 白 XL']) {
      const put = await c.rest('PUT', `/api/stock/skus/${encodeURIComponent(sku)}`, { name: sku, channels: [{ channel: 'tmall' }] });
      expect(put.status, `${sku}: ${JSON.stringify(put.body)}`).toBe(200);
      const receipt = await c.rest('POST', '/api/stock/receipts', { sku, warehouseId: 'WH-SH', quantity: 4 });
      expect(receipt.status, `${sku}: ${JSON.stringify(receipt.body)}`).toBe(201);
      const read = await c.rest('GET', `/api/stock/skus/${encodeURIComponent(sku)}/warehouses/WH-SH`);
      expect(read.status, sku).toBe(200);
      expect(read.body).toMatchObject({ onHand: 4 });
      const orderId = `code-${c.ulid()}`;
      await c.send(c.envelope('ReserveStock', { orderId, channel: 'tmall', lines: [{ lineId: '1', sku, quantity: 3 }] }));
      await c.waitFor(`reserved ${sku}`, () => c.of('StockReserved', { orderId })[0]);
      expect(await level(sku)).toEqual({ on_hand: 4, reserved: 3 });
    }
    // A fullwidth code is the same SKU (NFKC), on the way in and in the path.
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'ＬＪ２５０＊２', warehouseId: 'WH-SH', quantity: 1 })).status).toBe(201);
    expect(await level('LJ250*2')).toEqual({ on_hand: 5, reserved: 3 });
    const bad = await c.rest('POST', '/api/stock/receipts', { sku: 'A01\tXL', warehouseId: 'WH-SH', quantity: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('sku');
    expect((await c.rest('PUT', `/api/stock/skus/${encodeURIComponent('A01\nXL')}`, { name: 'two lines' })).status).toBe(400);
  });
});

describe('a shipment after the release', () => {
  it('takes the shipped units off on_hand, ends the reservation committed, and keeps ledger verify clean', async () => {
    expect((await c.rest('PUT', '/api/stock/skus/SKU-LATE', { name: 'late parcel', channels: [{ channel: 'tmall' }] })).status).toBe(200);
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-LATE', warehouseId: 'WH-SH', quantity: 10 })).status).toBe(201);
    const orderId = `late-${c.ulid()}`;
    await c.send(c.envelope('ReserveStock', { orderId, channel: 'tmall', lines: [{ lineId: '1', sku: 'SKU-LATE', quantity: 3 }] }));
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId })[0]);
    expect(await level('SKU-LATE')).toEqual({ on_hand: 10, reserved: 3 });

    // Cancelled while packed: the stock is released...
    await c.send(c.envelope('ReleaseStock', { orderId, reason: 'cancelled' }));
    await c.waitFor('released', () => c.of('StockReleased', { orderId })[0]);
    expect(await level('SKU-LATE')).toEqual({ on_hand: 10, reserved: 0 });

    // ...and the parcel ships anyway: order-intake sends CommitStock on ShipmentShipped.
    await c.send(c.envelope('CommitStock', { orderId }));
    await c.waitFor('committed', () => c.of('StockCommitted', { orderId })[0]);
    expect(await level('SKU-LATE')).toEqual({ on_hand: 7, reserved: 0 });
    const reservation = await c.rest('GET', `/api/stock/reservations/${orderId}`);
    expect(reservation.body.reservation).toMatchObject({ status: 'committed' });
    const ledger = await c.pool.query<{ data: { quantity: number; orderId: string } }>(
      `SELECT data FROM eventstore.events WHERE stream_id = 'stock-SKU-LATE@WH-SH' AND event_type = 'StockShippedAfterRelease'`,
    );
    expect(ledger.rows.map((r) => r.data)).toEqual([expect.objectContaining({ orderId, quantity: 3 })]);
    expect((await c.rest('GET', '/api/stock/verify?sku=SKU-LATE')).body.consistent).toBe(true);

    // Committing again changes nothing.
    await c.send(c.envelope('CommitStock', { orderId }));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await level('SKU-LATE')).toEqual({ on_hand: 7, reserved: 0 });
  });
});

describe('a shipment after the release that the warehouse no longer covers', () => {
  it('lets available go negative and publishes the stock exception StockWentNegative; verify stays clean; reservations still cannot oversell', async () => {
    expect((await c.rest('PUT', '/api/stock/skus/SKU-NEG', { name: 'short parcel', channels: [{ channel: 'tmall' }] })).status).toBe(200);
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-NEG', warehouseId: 'WH-SH', quantity: 3 })).status).toBe(201);
    const cancelled = `neg-a-${c.ulid()}`;
    const other = `neg-b-${c.ulid()}`;
    await c.send(c.envelope('ReserveStock', { orderId: cancelled, channel: 'tmall', lines: [{ lineId: '1', sku: 'SKU-NEG', quantity: 3 }] }));
    await c.waitFor('first reserved', () => c.of('StockReserved', { orderId: cancelled })[0]);
    await c.send(c.envelope('ReleaseStock', { orderId: cancelled, reason: 'cancelled' }));
    await c.waitFor('first released', () => c.of('StockReleased', { orderId: cancelled })[0]);
    // The released units are sold again...
    await c.send(c.envelope('ReserveStock', { orderId: other, channel: 'tmall', lines: [{ lineId: '1', sku: 'SKU-NEG', quantity: 3 }] }));
    await c.waitFor('second reserved', () => c.of('StockReserved', { orderId: other })[0]);
    expect(await level('SKU-NEG')).toEqual({ on_hand: 3, reserved: 3 });

    // ...and the cancelled order's parcel ships anyway.
    await c.send(c.envelope('CommitStock', { orderId: cancelled }));
    const exception = await c.waitFor('stock exception', () => c.of('StockWentNegative', { orderId: cancelled })[0]);
    expect(exception.data).toMatchObject({ orderId: cancelled, sku: 'SKU-NEG', warehouseId: 'WH-SH', onHand: 0, reserved: 3, available: -3 });
    expect(await level('SKU-NEG')).toEqual({ on_hand: 0, reserved: 3 });
    expect((await c.pool.query(`SELECT stock_exception FROM inventory.stock WHERE sku = 'SKU-NEG'`)).rows[0].stock_exception).toBe(true);
    expect((await c.rest('GET', '/api/stock/verify?sku=SKU-NEG')).body.consistent).toBe(true);

    // Nothing more can be reserved while short; a receipt covers the shortfall and clears the exception flag.
    const third = `neg-c-${c.ulid()}`;
    await c.send(c.envelope('ReserveStock', { orderId: third, channel: 'tmall', lines: [{ lineId: '1', sku: 'SKU-NEG', quantity: 1 }] }));
    await c.waitFor('shortage', () => c.of('StockShortage', { orderId: third })[0]);
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-NEG', warehouseId: 'WH-SH', quantity: 5 })).status).toBe(201);
    expect(await level('SKU-NEG')).toEqual({ on_hand: 5, reserved: 3 });
    expect((await c.pool.query(`SELECT stock_exception FROM inventory.stock WHERE sku = 'SKU-NEG'`)).rows[0].stock_exception).toBe(false);
  });
});
