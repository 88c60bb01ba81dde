import { resolve } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { grpcClient, unary } from '@flowline/platform';
import { authHeader } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/*
 * Data scoping by shop (ADR 0018) on the reservation reads, REST and gRPC. ReserveStock carries the
 * order's shop and the reservation keeps it: cs-jd (shops jd-self-run, jd-flagship) reads the JD
 * order's reservation and gets the Tmall order's, and one taken without a shop, as unknown; an
 * every-shop user (and a service) reads them all.
 */
describe('inventory reservation reads scoped by shop (ADR 0018)', () => {
  let c: InventoryCluster;
  let csJd: Record<string, string>;
  const orderId = `o-tmall-${Date.now().toString(36)}`;
  const jdOrderId = `o-jd-${Date.now().toString(36)}`;
  const noShopOrderId = `o-noshop-${Date.now().toString(36)}`;

  beforeAll(async () => {
    c = await startInventoryCluster('inv_shop_scope', 1);
    await c.rest('PUT', '/api/stock/skus/SKU-SCOPE-1', { name: '明前龙井 250g' });
    await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-SCOPE-1', warehouseId: 'WH-SH', quantity: 10 });
    await c.send(c.envelope('ReserveStock', { orderId, channel: 'tmall', shopId: 'tmall-flagship', lines: [{ lineId: '1', sku: 'SKU-SCOPE-1', quantity: 2 }] }));
    await c.send(c.envelope('ReserveStock', { orderId: jdOrderId, channel: 'jd', shopId: 'jd-flagship', lines: [{ lineId: '1', sku: 'SKU-SCOPE-1', quantity: 1 }] }));
    await c.send(c.envelope('ReserveStock', { orderId: noShopOrderId, channel: 'jd', lines: [{ lineId: '1', sku: 'SKU-SCOPE-1', quantity: 1 }] }));
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId })[0]);
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId: jdOrderId })[0]);
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId: noShopOrderId })[0]);
    csJd = await authHeader('customer_service', { user: 'cs-jd' });
  }, 120_000);

  afterAll(async () => {
    await c?.close();
  });

  it("answers a shop-limited user 404 RESERVATION_NOT_FOUND for another shop's order's reservation (and one without a shop), as for an order without one; its own shop's it reads; every-shop users read all", async () => {
    const scoped = await c.rest('GET', `/api/stock/reservations/${orderId}`, undefined, csJd);
    expect(scoped.status).toBe(404);
    expect(scoped.body.code).toBe('RESERVATION_NOT_FOUND');
    expect(JSON.stringify(scoped.body)).not.toContain('SKU-SCOPE-1');
    const unknown = await c.rest('GET', '/api/stock/reservations/o-never-reserved', undefined, csJd);
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 404, code: 'RESERVATION_NOT_FOUND' });

    const own = await c.rest('GET', `/api/stock/reservations/${jdOrderId}`, undefined, csJd);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect(own.body.reservation).toMatchObject({ orderId: jdOrderId, status: 'reserved', shopId: 'jd-flagship' });
    expect((await c.rest('GET', `/api/stock/reservations/${noShopOrderId}`, undefined, csJd)).status).toBe(404);
    expect((await c.rest('GET', `/api/stock/reservations/${noShopOrderId}`)).status).toBe(200);

    const all = await c.rest('GET', `/api/stock/reservations/${orderId}`);
    expect(all.status).toBe(200);
    expect(all.body.reservation).toMatchObject({ orderId, status: 'reserved' });
    expect(all.body.openLines).toEqual([expect.objectContaining({ sku: 'SKU-SCOPE-1', quantity: 2 })]);
  });

  it("gRPC GetReservations follows the same scope: by order and by SKU a shop-limited user gets its shops' reservations only", async () => {
    const client = grpcClient(c.processes[0].grpcAddress, resolve(__dirname, '../../../proto/inventory/v1/inventory.proto'), 'flowline.inventory.v1.InventoryService');
    const jd = () => {
      const m = new Metadata();
      m.set('authorization', csJd.authorization);
      return m;
    };
    try {
      type Page = { reservations?: { orderId: string; status: string }[] };
      expect((await unary<Page>(client, 'GetReservations', { orderId }, 5_000, jd())).reservations ?? []).toEqual([]);
      expect(((await unary<Page>(client, 'GetReservations', { sku: 'SKU-SCOPE-1' }, 5_000, jd())).reservations ?? []).map((r) => r.orderId)).toEqual([jdOrderId]);
      expect((await unary<Page>(client, 'GetReservations', { orderId: jdOrderId }, 5_000, jd())).reservations).toEqual([expect.objectContaining({ orderId: jdOrderId })]);
      expect((await unary<Page>(client, 'GetReservations', { orderId })).reservations).toEqual([expect.objectContaining({ orderId, status: 'RESERVATION_STATUS_ACTIVE' })]);
      expect(((await unary<Page>(client, 'GetReservations', { sku: 'SKU-SCOPE-1' })).reservations ?? []).map((r) => r.orderId).sort()).toEqual([jdOrderId, noShopOrderId, orderId].sort());
    } finally {
      client.close();
    }
  });
});
