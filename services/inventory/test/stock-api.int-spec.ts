import { grpcClient, unary } from '@flowline/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { DEMO_SKUS, seedInventory } from '../src/demo/demo-stock';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/** REST and gRPC of the inventory service: validation, not-found, conflicts, idempotency, import, verify and repair. */
describe('inventory API (REST and gRPC, one process)', () => {
  let c: InventoryCluster;

  beforeAll(async () => {
    c = await startInventoryCluster('inv_api', 1);
    await c.rest('PUT', '/api/stock/skus/SKU-TEA-001', { name: '正山小种红茶 250g', safetyStock: 1, channels: [{ channel: 'tmall' }] });
  }, 120_000);

  afterAll(async () => {
    await c?.close();
  });

  it('lists the seeded warehouses with their priority', async () => {
    const r = await c.rest('GET', '/api/stock/warehouses');
    expect(r.body).toEqual([
      { warehouseId: 'WH-SH', name: '上海仓', priority: 1, active: true },
      { warehouseId: 'WH-GZ', name: '广州仓', priority: 2, active: true },
      { warehouseId: 'WH-BJ', name: '北京仓', priority: 3, active: true },
    ]);
  });

  it('receives stock and shows it per warehouse and in total, after safety stock', async () => {
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 20, reference: 'PO-1' })).body).toMatchObject({
      sku: 'SKU-TEA-001',
      warehouseId: 'WH-SH',
      onHand: 20,
      reserved: 0,
      available: 19,
    });
    await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-TEA-001', warehouseId: 'WH-GZ', quantity: 5 });
    const stock = await c.rest('GET', '/api/stock/skus/SKU-TEA-001');
    expect(stock.status).toBe(200);
    expect(stock.body.warehouses.map((w: { warehouseId: string; available: number }) => [w.warehouseId, w.available])).toEqual([
      ['WH-GZ', 4],
      ['WH-SH', 19],
    ]);
    expect(stock.body.total).toEqual({ onHand: 25, reserved: 0, available: 23, backordered: 0 });
    expect((await c.rest('GET', '/api/stock/skus/SKU-TEA-001/warehouses/WH-GZ')).body).toMatchObject({ onHand: 5, warehouseName: '广州仓' });
  });

  it('rejects zero or negative quantities with 400 and the field', async () => {
    for (const quantity of [0, -5, 1.5]) {
      const r = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity });
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain('quantity');
    }
    const zero = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', delta: 0, reason: 'count' });
    expect(zero.status).toBe(400);
    expect(zero.body.message).toContain('delta');
    const reason = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', delta: -1, reason: 'theft' });
    expect(reason.status).toBe(400);
  });

  it('refuses a receipt past the most units a ledger holds with 422 ON_HAND_LIMIT, and an import hold with no real expiry with 400 naming it', async () => {
    await c.rest('PUT', '/api/stock/skus/SKU-HUGE', { name: 'huge' });
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-HUGE', warehouseId: 'WH-SH', quantity: 2_000_000_000 })).status).toBe(201);
    const over = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-HUGE', warehouseId: 'WH-SH', quantity: 200_000_000 });
    expect(over.status, JSON.stringify(over.body)).toBe(422);
    expect(over.body.code).toBe('ON_HAND_LIMIT');
    const adj = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-HUGE', warehouseId: 'WH-SH', delta: 200_000_000, reason: 'count' });
    expect(adj.status).toBe(422);
    expect((await c.rest('GET', '/api/stock/skus/SKU-HUGE/warehouses/WH-SH')).body).toMatchObject({ onHand: 2_000_000_000 });
    const imp = await c.rest('POST', '/api/stock/imports', { sku: 'SKU-HUGE', warehouseId: 'WH-BJ', onHand: 5, reserved: 1, source: 'x', reservations: [{ orderId: 'X1', lineId: '1', quantity: 1, expiresAt: 'notadate' }] });
    expect(imp.status).toBe(400);
    expect(JSON.stringify(imp.body)).toContain('expiresAt');
  });

  it("refuses a receipt or adjustment that takes a SKU's units across its warehouses past the limit with 422 naming the field (a 500 from the SKU row's 32-bit total before), and takes them again once below", async () => {
    await c.rest('PUT', '/api/stock/skus/SKU-HUGE-TOTAL', { name: 'huge total' });
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-HUGE-TOTAL', warehouseId: 'WH-SH', quantity: 2_147_483_647 })).status).toBe(201);
    const receipt = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-HUGE-TOTAL', warehouseId: 'WH-GZ', quantity: 5 });
    expect(receipt.status, JSON.stringify(receipt.body)).toBe(422);
    expect(receipt.body.code).toBe('ON_HAND_LIMIT');
    expect(receipt.body.errors).toEqual([expect.objectContaining({ field: 'quantity', message: expect.stringContaining('across its warehouses') })]);
    const adjustment = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-HUGE-TOTAL', warehouseId: 'WH-GZ', delta: 5, reason: 'count' });
    expect(adjustment.status, JSON.stringify(adjustment.body)).toBe(422);
    expect(adjustment.body.errors.map((e: { field: string }) => e.field)).toEqual(['delta']);
    expect((await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-HUGE-TOTAL', warehouseId: 'WH-SH', delta: -10, reason: 'count' })).status).toBeLessThan(300);
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-HUGE-TOTAL', warehouseId: 'WH-GZ', quantity: 5 })).status).toBe(201);
    expect((await c.rest('GET', '/api/stock/skus/SKU-HUGE-TOTAL')).body.total).toMatchObject({ onHand: 2_147_483_642 });
  });

  it("verify takes deep as a yes/no only: 'maybe' is a 400 naming it (it was read as yes)", async () => {
    const maybe = await c.rest('GET', '/api/stock/verify?deep=maybe');
    expect(maybe.status).toBe(400);
    expect(maybe.body.errors.map((e: { field: string }) => e.field)).toEqual(['deep']);
    expect((await c.rest('GET', '/api/stock/verify?deep=false')).status).toBe(200);
  });

  it('refuses a warehouse id that is not a code, a negative priority and a channel rule for an unknown channel (400/422 naming them)', async () => {
    const slash = await c.rest('PUT', `/api/stock/warehouses/${encodeURIComponent('WH/..')}`, { name: 'x', priority: 9 });
    expect(slash.status).toBe(422);
    expect(slash.body.code).toBe('INVALID_WAREHOUSE');
    const negative = await c.rest('PUT', '/api/stock/warehouses/WH-NEG', { name: 'x', priority: -1 });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body)).toContain('priority');
    const amazon = await c.rest('PUT', '/api/stock/skus/SKU-CH', { name: 'x', channels: [{ channel: 'amazon' }] });
    expect(amazon.status).toBe(400);
    expect(JSON.stringify(amazon.body)).toContain('channel must be one of');
    expect((await c.rest('GET', '/api/stock/warehouses')).body.map((w: { warehouseId: string }) => w.warehouseId)).not.toContain('WH/..');
  });

  it('takes the Idempotency-Key every service takes: a 500-character or non-ASCII key is a 400 naming the header', async () => {
    const body = { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 1 };
    for (const key of ['k'.repeat(500), 'key with space']) {
      const r = await c.rest('POST', '/api/stock/receipts', body, { 'idempotency-key': key });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain('Idempotency-Key');
    }
  });

  it('answers 404 with a clear message for an unknown SKU or warehouse', async () => {
    const sku = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-NOPE', warehouseId: 'WH-SH', quantity: 1 });
    expect(sku.status).toBe(404);
    expect(sku.body).toMatchObject({ code: 'SKU_NOT_FOUND' });
    expect(sku.body.message).toContain('SKU-NOPE');
    const wh = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-TEA-001', warehouseId: 'WH-XX', quantity: 1 });
    expect(wh.status).toBe(404);
    expect(wh.body).toMatchObject({ code: 'WAREHOUSE_NOT_FOUND' });
    expect(wh.body.message).toContain('WH-XX');
    expect((await c.rest('GET', '/api/stock/skus/SKU-NOPE')).status).toBe(404);
    expect((await c.rest('GET', '/api/stock/skus/SKU-TEA-001/warehouses/WH-XX')).status).toBe(404);
    expect((await c.rest('GET', '/api/stock/reservations/no-such-order')).status).toBe(404);
  });

  it('refuses an adjustment below zero with 409', async () => {
    const r = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-TEA-001', warehouseId: 'WH-GZ', delta: -6, reason: 'count' });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('NEGATIVE_ON_HAND');
    const ok = await c.rest('POST', '/api/stock/adjustments', { sku: 'SKU-TEA-001', warehouseId: 'WH-GZ', delta: -2, reason: 'damage', note: 'crushed' });
    expect(ok.status).toBe(201);
    expect(ok.body.onHand).toBe(3);
  });

  it('applies a POST with the same Idempotency-Key once', async () => {
    const body = { sku: 'SKU-TEA-001', warehouseId: 'WH-BJ', quantity: 7 };
    const first = await c.rest('POST', '/api/stock/receipts', body, { 'idempotency-key': 'rcpt-42' });
    const again = await c.rest('POST', '/api/stock/receipts', body, { 'idempotency-key': 'rcpt-42' });
    expect(first.body).toMatchObject({ onHand: 7 });
    expect(again.body).toEqual(first.body);
    expect((await c.rest('GET', '/api/stock/skus/SKU-TEA-001/warehouses/WH-BJ')).body.onHand).toBe(7);
  });

  it('refuses an Idempotency-Key reused with a different body (422 naming the key) and still replays the first request', async () => {
    await c.rest('PUT', '/api/stock/skus/SKU-IDEM', { name: 'idempotency' });
    const body = { sku: 'SKU-IDEM', warehouseId: 'WH-SH', quantity: 3, reference: 'PO-9' };
    const first = await c.rest('POST', '/api/stock/receipts', body, { 'idempotency-key': 'rcpt-reuse' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ onHand: 3 });

    const other = await c.rest('POST', '/api/stock/receipts', { ...body, quantity: 30 }, { 'idempotency-key': 'rcpt-reuse' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(other.body.message).toContain('rcpt-reuse');
    const noReference = await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-IDEM', warehouseId: 'WH-SH', quantity: 3 }, { 'idempotency-key': 'rcpt-reuse' });
    expect(noReference.status).toBe(422);

    // The same request again, fields in another order: the first reply, nothing applied twice.
    const again = await c.rest('POST', '/api/stock/receipts', { reference: 'PO-9', quantity: 3, warehouseId: 'WH-SH', sku: 'SKU-IDEM' }, { 'idempotency-key': 'rcpt-reuse' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);

    // The key of an adjustment is its own: reused with another delta, refused too.
    const adj = { sku: 'SKU-IDEM', warehouseId: 'WH-SH', delta: -1, reason: 'damage' };
    expect((await c.rest('POST', '/api/stock/adjustments', adj, { 'idempotency-key': 'adj-reuse' })).status).toBe(201);
    const adjOther = await c.rest('POST', '/api/stock/adjustments', { ...adj, delta: -2 }, { 'idempotency-key': 'adj-reuse' });
    expect(adjOther.status).toBe(422);
    expect(adjOther.body.message).toContain('adj-reuse');

    // gRPC request_id follows the same rule: same request replays, another is INVALID_ARGUMENT.
    const client = grpcClient(c.processes[0].grpcAddress, resolve(__dirname, '../../../proto/inventory/v1/inventory.proto'), 'flowline.inventory.v1.InventoryService');
    try {
      const req = { meta: { requestId: 'grpc-reuse' }, sku: 'SKU-IDEM', warehouseId: 'WH-GZ', quantity: 4 };
      await unary(client, 'ReceiveStock', req);
      await unary(client, 'ReceiveStock', req);
      await expect(unary(client, 'ReceiveStock', { ...req, quantity: 40 })).rejects.toMatchObject({ code: 3 });
    } finally {
      client.close();
    }

    const stock = await c.rest('GET', '/api/stock/skus/SKU-IDEM');
    expect(stock.body.warehouses.map((w: { warehouseId: string; onHand: number }) => [w.warehouseId, w.onHand])).toEqual([
      ['WH-GZ', 4],
      ['WH-SH', 2],
    ]);
  });

  it('imports balances from elsewhere, reports the drift, repairs it', async () => {
    await c.rest('PUT', '/api/stock/skus/SKU-LEGACY', { name: 'legacy' });
    const imp = await c.rest('POST', '/api/stock/imports', {
      sku: 'SKU-LEGACY',
      warehouseId: 'WH-SH',
      onHand: 40,
      reserved: 7,
      source: 'legacy-erp',
      reservations: [{ orderId: 'old-1', lineId: '1', quantity: 4 }],
    });
    expect(imp.status, JSON.stringify(imp.body)).toBe(201);
    const drift = await c.rest('GET', '/api/stock/verify?sku=SKU-LEGACY');
    expect(drift.body.consistent).toBe(false);
    expect(drift.body.drifts).toEqual([
      {
        sku: 'SKU-LEGACY',
        warehouseId: 'WH-SH',
        onHand: 40,
        reserved: 7,
        openReservationsSum: 4,
        drift: 3,
        problems: ['reserved 7 differs from the sum of open reservations 4'],
      },
    ]);
    const repair = await c.rest('POST', '/api/stock/verify/repair', { sku: 'SKU-LEGACY' });
    expect(repair.body).toEqual({ repaired: [{ sku: 'SKU-LEGACY', warehouseId: 'WH-SH', previous: 7, corrected: 4 }] });
    expect((await c.rest('GET', '/api/stock/verify')).body).toMatchObject({ consistent: true, drifts: [] });
    // The imported hold is a real reservation: cancelling the legacy order releases it.
    await c.send(c.envelope('ReleaseStock', { orderId: 'old-1', reason: 'cancelled' }));
    await c.waitFor('released', () => c.of('StockReleased', { orderId: 'old-1' })[0]);
    expect((await c.rest('GET', '/api/stock/skus/SKU-LEGACY')).body.total).toMatchObject({ onHand: 40, reserved: 0 });
    expect((await c.rest('GET', '/api/stock/verify?sku=SKU-LEGACY')).body.consistent).toBe(true);
  });

  it('serves the same over gRPC: receipts, stock, reservations, verify; bad input is INVALID_ARGUMENT / NOT_FOUND', async () => {
    const client = grpcClient(c.processes[0].grpcAddress, resolve(__dirname, '../../../proto/inventory/v1/inventory.proto'), 'flowline.inventory.v1.InventoryService');
    try {
      const received = await unary<{ level: { onHand: number; available: number; warehouseName: string } }>(client, 'ReceiveStock', {
        meta: { requestId: 'grpc-1' },
        sku: 'SKU-TEA-001',
        warehouseId: 'WH-SH',
        quantity: 5,
      });
      expect(received.level).toMatchObject({ onHand: 25, available: 24, warehouseName: '上海仓' });
      const stock = await unary<{ levels: unknown[]; totalOnHand: number; atp: { channel: string; atp: number }[] }>(client, 'GetStock', { sku: 'SKU-TEA-001' });
      expect(stock.levels).toHaveLength(3);
      expect(stock.totalOnHand).toBe(35);
      expect(stock.atp).toEqual([{ channel: 'tmall', atp: 32 }]);
      await expect(unary(client, 'ReceiveStock', { sku: 'SKU-TEA-001', warehouseId: 'WH-SH', quantity: 0 })).rejects.toMatchObject({ code: 3 });
      await expect(unary(client, 'GetStock', { sku: 'SKU-NOPE' })).rejects.toMatchObject({ code: 5 });
      const verify = await unary<{ consistent: boolean; streamsChecked: number }>(client, 'VerifyLedger', {});
      expect(verify.consistent).toBe(true);
      expect(verify.streamsChecked).toBeGreaterThanOrEqual(4);
      // The SKU in the one form, as REST takes it: fullwidth and padded, it verifies SKU-TEA-001's ledgers (3 warehouses).
      const one = await unary<{ consistent: boolean; streamsChecked: number }>(client, 'VerifyLedger', { sku: ' ＳＫＵ-ＴＥＡ-001 ' });
      expect(one).toMatchObject({ consistent: true, streamsChecked: 3 });
      await expect(unary(client, 'VerifyLedger', { sku: 'SKU\tTAB' })).rejects.toMatchObject({ code: 3 });
      const reservations = await unary<{ reservations: { orderId: string; status: string }[] }>(client, 'GetReservations', { orderId: 'old-1' });
      expect(reservations.reservations).toEqual([expect.objectContaining({ orderId: 'old-1', status: 'RESERVATION_STATUS_RELEASED' })]);
    } finally {
      client.close();
    }
  });

  it('seeds the demo stock over REST, and a second run changes nothing', async () => {
    expect(await seedInventory(c.http)).toEqual({ skus: DEMO_SKUS.length, receipts: 13 });
    await seedInventory(c.http);
    expect((await c.rest('GET', '/api/stock/skus/GIFT-TEA-SET')).body.total).toEqual({ onHand: 160, reserved: 0, available: 160, backordered: 0 });
    const custom = (await c.rest('GET', '/api/stock/skus/POT-YIXING-CUSTOM')).body;
    expect(custom.rules.allowBackorder).toBe(true);
    expect((await c.rest('GET', '/api/stock/skus/TEA-LJ-250')).body.atp).toMatchObject({ tmall: 80, pinduoduo: 40, douyin: 78 });
  });

  it('counts its commands and transactions on /metrics', async () => {
    const text = await (await fetch(`${c.http}/metrics`)).text();
    expect(text).toMatch(/flowline_inventory_commands_total\{type="ReceiveStock",outcome="applied"\} \d+/);
    expect(text).toContain('flowline_inventory_batch_commands_bucket');
  });

  it('serves its OpenAPI document with the stock routes', async () => {
    const doc = (await c.rest('GET', '/docs-json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/stock/receipts', '/api/stock/adjustments', '/api/stock/skus/{sku}', '/api/stock/reservations/{orderId}', '/api/stock/verify']),
    );
  });
});
