import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/**
 * The "must show", against real Kafka and PostgreSQL, with TWO inventory processes in one
 * consumer group sharing one database: commands in on inventory.commands.v1, events out on
 * inventory.events.v1 through the relay.
 */
describe('inventory reservations (two instances, real Kafka and PostgreSQL)', () => {
  let c: InventoryCluster;

  beforeAll(async () => {
    c = await startInventoryCluster('inv_resv', 2, { INVENTORY_EXPIRY_SWEEP_MS: '200' });
  }, 120_000);

  afterAll(async () => {
    await c?.close();
  });

  async function sku(code: string, rules: Record<string, unknown> = {}, stock: Record<string, number> = {}) {
    const put = await c.rest('PUT', `/api/stock/skus/${code}`, { name: code, channels: [{ channel: 'tmall' }], ...rules });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    for (const [warehouseId, quantity] of Object.entries(stock)) {
      const r = await c.rest('POST', '/api/stock/receipts', { sku: code, warehouseId, quantity });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
  }

  const reserve = (orderId: string, lines: { lineId: string; sku: string; quantity: number }[], extra: Record<string, unknown> = {}) =>
    c.envelope('ReserveStock', { orderId, channel: 'tmall', lines, ...extra });

  const outcome = (orderId: string) => c.of('StockReserved', { orderId })[0] ?? c.of('StockShortage', { orderId })[0];

  async function level(code: string, warehouseId = 'WH-SH') {
    return (await c.pool.query(`SELECT on_hand, reserved FROM inventory.stock WHERE sku = $1 AND warehouse_id = $2`, [code, warehouseId])).rows[0];
  }

  it('200 concurrent orders for one SKU with stock 50: exactly 50 reserved, 150 shortages, stock never negative, verify clean', async () => {
    await sku('SKU-HOT-200', {}, { 'WH-SH': 50 });
    // Both instances hold partitions of the command topic.
    const admin = c.kafka.admin();
    await admin.connect();
    await c.waitForAsync('two members in a stable group', async () => {
      const g = (await admin.describeGroups([c.group])).groups[0];
      return g.state === 'Stable' && g.members.length === 2;
    });
    const orders = Array.from({ length: 200 }, (_, i) => `hot-${i}-${c.ulid()}`);
    let sampling = true;
    const samples: { on_hand: number; reserved: number }[] = [];
    const sampler = (async () => {
      while (sampling) {
        samples.push(await level('SKU-HOT-200'));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await Promise.all(orders.map((o) => c.send(reserve(o, [{ lineId: '1', sku: 'SKU-HOT-200', quantity: 1 }]))));
    await c.waitFor('200 outcomes', () => orders.every((o) => outcome(o)), 60_000);
    sampling = false;
    await sampler;
    const group = await admin.describeGroups([c.group]);
    await admin.disconnect();

    const reserved = orders.filter((o) => c.of('StockReserved', { orderId: o }).length === 1);
    const short = orders.filter((o) => c.of('StockShortage', { orderId: o }).length === 1);
    expect(reserved).toHaveLength(50);
    expect(short).toHaveLength(150);
    expect(orders.filter((o) => c.of('StockReserved', { orderId: o }).length + c.of('StockShortage', { orderId: o }).length !== 1)).toEqual([]);
    expect(c.of('StockShortage', { orderId: short[0] })[0].data.missing).toEqual([{ sku: 'SKU-HOT-200', requested: 1, available: 0, lineIds: ['1'] }]);
    expect(group.groups[0].members).toHaveLength(2);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      expect(s.on_hand).toBeGreaterThanOrEqual(0);
      expect(s.reserved).toBeLessThanOrEqual(s.on_hand);
    }
    const stock = await c.rest('GET', '/api/stock/skus/SKU-HOT-200');
    expect(stock.body.total).toEqual({ onHand: 50, reserved: 50, available: 0, backordered: 0 });
    const verify = await c.rest('GET', '/api/stock/verify?sku=SKU-HOT-200');
    expect(verify.body).toMatchObject({ consistent: true, ledgersChecked: 1, drifts: [] });
    expect(verify.body.eventsReplayed).toBeGreaterThanOrEqual(51);
  });

  it('checks the same SKU on two lines against the sum', async () => {
    await sku('SKU-SUM-5', {}, { 'WH-SH': 5 });
    const [tooMuch, fits] = [`sum-a-${c.ulid()}`, `sum-b-${c.ulid()}`];
    await c.send(reserve(tooMuch, [{ lineId: 'L1', sku: 'SKU-SUM-5', quantity: 3 }, { lineId: 'L2', sku: 'SKU-SUM-5', quantity: 3 }]));
    const shortage = await c.waitFor('shortage', () => c.of('StockShortage', { orderId: tooMuch })[0]);
    expect(shortage.data.missing).toEqual([{ sku: 'SKU-SUM-5', requested: 6, available: 5, lineIds: ['L1', 'L2'] }]);
    await c.send(reserve(fits, [{ lineId: 'L1', sku: 'SKU-SUM-5', quantity: 2 }, { lineId: 'L2', sku: 'SKU-SUM-5', quantity: 3 }]));
    const ok = await c.waitFor('reserved', () => c.of('StockReserved', { orderId: fits })[0]);
    expect(ok.data.allocations).toEqual([
      { lineId: 'L1', sku: 'SKU-SUM-5', warehouseId: 'WH-SH', quantity: 2 },
      { lineId: 'L2', sku: 'SKU-SUM-5', warehouseId: 'WH-SH', quantity: 3 },
    ]);
    expect(await level('SKU-SUM-5')).toEqual({ on_hand: 5, reserved: 5 });
  });

  it('refuses to turn backorder off while units are reserved beyond stock (409 naming them, not a 500); allowed once stock covers them', async () => {
    await sku('SKU-BO-1', { allowBackorder: true }, { 'WH-SH': 2 });
    const order = `bo-${c.ulid()}`;
    await c.send(reserve(order, [{ lineId: '1', sku: 'SKU-BO-1', quantity: 5 }]));
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId: order })[0]);
    expect(await level('SKU-BO-1')).toEqual({ on_hand: 2, reserved: 5 });
    const off = await c.rest('PUT', '/api/stock/skus/SKU-BO-1', { name: 'SKU-BO-1', allowBackorder: false, channels: [{ channel: 'tmall' }] });
    expect(off.status, JSON.stringify(off.body)).toBe(409);
    expect(off.body).toMatchObject({ code: 'SKU_BACKORDERED', details: { backordered: 3, warehouses: [{ warehouseId: 'WH-SH', onHand: 2, reserved: 5, backordered: 3 }] } });
    expect((await c.rest('GET', '/api/stock/skus/SKU-BO-1')).body.rules.allowBackorder).toBe(true);
    expect((await c.rest('POST', '/api/stock/receipts', { sku: 'SKU-BO-1', warehouseId: 'WH-SH', quantity: 3 })).status).toBe(201);
    const later = await c.rest('PUT', '/api/stock/skus/SKU-BO-1', { name: 'SKU-BO-1', allowBackorder: false, channels: [{ channel: 'tmall' }] });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
    expect(later.body.rules.allowBackorder).toBe(false);
  });

  it('stock gone between the check and the reserve gives a clean shortage: nothing of the order is held', async () => {
    // Both orders saw 1 unit of the contended SKU; each also wants a plentiful one.
    await sku('SKU-LAST-1', {}, { 'WH-SH': 1 });
    await sku('SKU-PLENTY', {}, { 'WH-SH': 100 });
    expect((await c.rest('GET', '/api/stock/skus/SKU-LAST-1')).body.total.available).toBe(1);
    const [a, b] = [`race-a-${c.ulid()}`, `race-b-${c.ulid()}`];
    const lines = [{ lineId: '1', sku: 'SKU-PLENTY', quantity: 4 }, { lineId: '2', sku: 'SKU-LAST-1', quantity: 1 }];
    await Promise.all([c.send(reserve(a, lines)), c.send(reserve(b, lines))]);
    await c.waitFor('both outcomes', () => outcome(a) && outcome(b));
    const kinds = [outcome(a).type, outcome(b).type].sort();
    expect(kinds).toEqual(['StockReserved', 'StockShortage']);
    const loser = outcome(a).type === 'StockShortage' ? outcome(a) : outcome(b);
    expect(loser.data.missing).toEqual([{ sku: 'SKU-LAST-1', requested: 1, available: 0, lineIds: ['2'] }]);
    // Only the winner's 4 plentiful units are held.
    expect(await level('SKU-PLENTY')).toEqual({ on_hand: 100, reserved: 4 });

    // And a damage adjustment racing a reservation: exactly one of them wins.
    for (let i = 0; i < 4; i++) {
      const code = `SKU-DMG-${i}`;
      await sku(code, {}, { 'WH-SH': 10 });
      const order = `dmg-${i}-${c.ulid()}`;
      const [adjust] = await Promise.all([
        c.rest('POST', '/api/stock/adjustments', { sku: code, warehouseId: 'WH-SH', delta: -10, reason: 'damage' }),
        c.send(reserve(order, [{ lineId: '1', sku: code, quantity: 10 }])),
      ]);
      await c.waitFor('outcome', () => outcome(order));
      if (adjust.status === 201) {
        expect(outcome(order).type).toBe('StockShortage');
        expect(await level(code)).toEqual({ on_hand: 0, reserved: 0 });
      } else {
        expect(adjust.status).toBe(409);
        expect(adjust.body.code).toBe('ADJUSTMENT_BELOW_RESERVED');
        expect(outcome(order).type).toBe('StockReserved');
        expect(await level(code)).toEqual({ on_hand: 10, reserved: 10 });
      }
    }
    expect((await c.rest('GET', '/api/stock/verify')).body.consistent).toBe(true);
  });

  it('releases on cancel before shipment, and commits on shipment', async () => {
    await sku('SKU-FLOW', {}, { 'WH-SH': 10 });
    const [cancelled, shipped] = [`cancel-${c.ulid()}`, `ship-${c.ulid()}`];
    await c.send(reserve(cancelled, [{ lineId: '1', sku: 'SKU-FLOW', quantity: 3 }]), reserve(shipped, [{ lineId: '1', sku: 'SKU-FLOW', quantity: 2 }]));
    await c.waitFor('both reserved', () => c.of('StockReserved', { orderId: cancelled })[0] && c.of('StockReserved', { orderId: shipped })[0]);
    expect(await level('SKU-FLOW')).toEqual({ on_hand: 10, reserved: 5 });

    await c.send(c.envelope('ReleaseStock', { orderId: cancelled, reason: 'cancelled' }));
    const released = await c.waitFor('released', () => c.of('StockReleased', { orderId: cancelled })[0]);
    expect(released.data).toMatchObject({ orderId: cancelled, reason: 'cancelled', reservationId: c.of('StockReserved', { orderId: cancelled })[0].data.reservationId });
    expect(await level('SKU-FLOW')).toEqual({ on_hand: 10, reserved: 2 });

    await c.send(c.envelope('CommitStock', { orderId: shipped }));
    await c.waitFor('committed', () => c.of('StockCommitted', { orderId: shipped })[0]);
    expect(await level('SKU-FLOW')).toEqual({ on_hand: 8, reserved: 0 });
    const reservation = await c.rest('GET', `/api/stock/reservations/${shipped}`);
    expect(reservation.body.reservation).toMatchObject({ status: 'committed' });
    expect(reservation.body.openLines).toEqual([]);
    expect((await c.rest('GET', '/api/stock/verify?sku=SKU-FLOW')).body.consistent).toBe(true);
  });

  it('releases an unpaid reserve-on-placement hold when it expires; a paid one stays', async () => {
    await sku('SKU-EXP', {}, { 'WH-SH': 10 });
    const [unpaid, paid] = [`unpaid-${c.ulid()}`, `paid-${c.ulid()}`];
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    await c.send(reserve(unpaid, [{ lineId: '1', sku: 'SKU-EXP', quantity: 4 }], { expiresAt }), reserve(paid, [{ lineId: '1', sku: 'SKU-EXP', quantity: 1 }], { expiresAt }));
    const held = await c.waitFor('held', () => c.of('StockReserved', { orderId: unpaid })[0]);
    expect(held.data.expiresAt).toBe(expiresAt);
    await c.waitFor('paid held', () => c.of('StockReserved', { orderId: paid })[0]);
    // Paid in time: order-intake repeats ReserveStock without an expiry.
    await c.send(reserve(paid, [{ lineId: '1', sku: 'SKU-EXP', quantity: 1 }]));
    await c.waitForAsync('expiry cleared', async () => (await c.pool.query(`SELECT expires_at FROM inventory.reservation WHERE order_id = $1`, [paid])).rows[0]?.expires_at === null);
    const expired = await c.waitFor('expired', () => c.of('StockReleased', { orderId: unpaid })[0], 20_000);
    expect(expired.data.reason).toBe('expired');
    await new Promise((r) => setTimeout(r, 600));
    expect(c.of('StockReleased', { orderId: paid })).toEqual([]);
    expect(await level('SKU-EXP')).toEqual({ on_hand: 10, reserved: 1 });
  });

  it('applies a redelivered reservation once', async () => {
    await sku('SKU-ONCE', {}, { 'WH-SH': 10 });
    const order = `once-${c.ulid()}`;
    const command = reserve(order, [{ lineId: '1', sku: 'SKU-ONCE', quantity: 3 }]);
    await c.send(command);
    await c.send(command); // the same message again (same eventId)
    await c.send({ ...command, eventId: c.ulid() }); // order-intake retrying with a new message id
    await c.waitFor('reserved', () => c.of('StockReserved', { orderId: order })[0]);
    const marker = `once-marker-${c.ulid()}`;
    await c.send(reserve(marker, [{ lineId: '1', sku: 'SKU-ONCE', quantity: 1 }]));
    await c.waitFor('marker', () => outcome(marker));
    await new Promise((r) => setTimeout(r, 300));
    expect(c.of('StockReserved', { orderId: order })).toHaveLength(1);
    expect(c.of('StockShortage', { orderId: order })).toHaveLength(0);
    expect(await level('SKU-ONCE')).toEqual({ on_hand: 10, reserved: 4 });
    const inbox = await c.pool.query(`SELECT count(*)::int AS n FROM messaging_inbox WHERE event_id = $1`, [command.eventId]);
    expect(inbox.rows[0].n).toBe(1);
  });

  it('publishes ATP per channel with its safety stock and share, and a low-stock alert', async () => {
    await sku('SKU-ATP', { channels: [{ channel: 'tmall', safetyStock: 2 }, { channel: 'jd', sharePercent: 50 }, { channel: 'douyin' }], lowStockThreshold: 5 }, { 'WH-SH': 10 });
    const atp = (channel: string) => c.of('AvailableToPromiseChanged', { sku: 'SKU-ATP' }).filter((e) => e.data.channel === channel).map((e) => e.data.atp);
    await c.waitFor('ATP after receipt', () => atp('tmall').length > 0 && atp('jd').length > 0 && atp('douyin').length > 0);
    expect([atp('tmall'), atp('jd'), atp('douyin')]).toEqual([[8], [5], [10]]);
    const order = `atp-${c.ulid()}`;
    await c.send(reserve(order, [{ lineId: '1', sku: 'SKU-ATP', quantity: 6 }]));
    await c.waitFor('ATP after reservation', () => atp('tmall').length === 2);
    expect([atp('tmall'), atp('jd'), atp('douyin')]).toEqual([[8, 2], [5, 2], [10, 4]]);
    const low = await c.waitFor('low stock', () => c.of('LowStockAlerted', { sku: 'SKU-ATP' })[0]);
    expect(low.data).toEqual({ sku: 'SKU-ATP', available: 4, threshold: 5 });
    const level = await c.waitFor('level', () => c.of('StockLevelChanged', { sku: 'SKU-ATP' }).find((e) => e.data.reserved === 6));
    expect(level.data).toEqual({ sku: 'SKU-ATP', warehouseId: 'WH-SH', onHand: 10, reserved: 6, available: 4 });
    expect((await c.rest('GET', '/api/stock/skus/SKU-ATP')).body.atp).toEqual({ tmall: 2, jd: 2, douyin: 4 });
  });
});
