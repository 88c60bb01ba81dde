import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/**
 * Issue #9, must-show 3 (inventory's part): an order cancelled while packed whose parcel ships
 * anyway. CommitStock after the release used to be refused (RESERVATION_NOT_OPEN) and only
 * logged, leaving shipped units in on_hand. Now the shipment is a ledger movement: on_hand drops
 * by the quantity, the reservation ends committed, and ledger verify stays clean.
 */
let c: InventoryCluster;

beforeAll(async () => {
  c = await startInventoryCluster('inv_ship_after_release', 1);
}, 120_000);

afterAll(async () => {
  await c?.close();
});

async function level(code: string, warehouseId = 'WH-SH') {
  return (await c.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = $1 AND warehouse_id = $2`, [code, warehouseId])).rows[0];
}

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
