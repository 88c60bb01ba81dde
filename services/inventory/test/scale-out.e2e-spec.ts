import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { kafkaBrokers } from '@flowline/testing';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInventoryCluster, type InventoryCluster } from './support/inventory-cluster';

/**
 * Issue #18 "scale-out, proven here", for inventory (real main.ts processes, real Kafka and
 * PostgreSQL): two instances in one consumer group under a steady stream of commands, a third added
 * mid-load (rebalance), then a rolling restart of every instance one by one (SIGTERM, wait for a
 * clean exit, start a replacement, next), the stream never pausing. Then: every order has exactly
 * one outcome (no loss, no duplicate effect), an order's Reserve then Release (same key, sent back
 * to back) always ends released (per-order order kept), every SKU's reserved equals the open
 * reservations and ledger verify is clean (balanced).
 */
const SKUS = Array.from({ length: 12 }, (_, i) => `SKU-SCALE-${i}`);
// Far more than the load can reserve however long it runs under CPU contention: no order may hit a shortage.
const STOCK = 1_000_000;

describe('inventory scale-out and rolling restart under load (real processes)', () => {
  let c: InventoryCluster;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    c = await startInventoryCluster('inv_scale', 2);
    env = { DATABASE_URL: c.db.url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: c.prefix, INVENTORY_CONSUMER_GROUP: c.group, LOG_LEVEL: 'warn' };
    for (const sku of SKUS) {
      expect((await c.rest('PUT', `/api/stock/skus/${sku}`, { name: sku, channels: [{ channel: 'tmall' }] })).status).toBe(200);
      expect((await c.rest('POST', '/api/stock/receipts', { sku, warehouseId: 'WH-SH', quantity: STOCK })).status).toBe(201);
    }
  }, 180_000);

  afterAll(async () => {
    await c?.close();
  });

  it('splits partitions over 2 then 3 members, survives a rolling restart, loses and duplicates nothing, keeps per-order order', async () => {
    const admin = c.kafka.admin();
    await admin.connect();
    const members = async () => {
      const g = (await admin.describeGroups([c.group])).groups[0];
      return g.state === 'Stable' ? g.members.length : -1;
    };
    await c.waitForAsync('2 members', async () => (await members()) === 2, 60_000);

    // Load: a batch every 150 ms until the membership changes are done.
    const reserveOnly: { orderId: string; sku: string; quantity: number }[] = [];
    const reserveThenRelease: string[] = [];
    let loading = true;
    let n = 0;
    const load = (async () => {
      while (loading) {
        const batch = [];
        for (let i = 0; i < 8; i++, n++) {
          const orderId = `scale-${n}-${c.ulid()}`;
          const sku = SKUS[n % SKUS.length];
          const round = Math.floor(n / SKUS.length); // quantities and pairs vary per SKU too
          const quantity = 1 + (round % 3);
          const reserve = c.envelope('ReserveStock', { orderId, channel: 'tmall', lines: [{ lineId: '1', sku, quantity }] });
          if (round % 4 === 0) {
            reserveThenRelease.push(orderId);
            batch.push(reserve, c.envelope('ReleaseStock', { orderId, reason: 'cancelled' }));
          } else {
            reserveOnly.push({ orderId, sku, quantity });
            batch.push(reserve);
          }
        }
        await c.send(...batch);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    // A third instance joins mid-load.
    await new Promise((r) => setTimeout(r, 2_000));
    c.processes.push(await startServiceProcess({ service: 'inventory', env }));
    await c.waitForAsync('3 members', async () => (await members()) === 3, 60_000);
    // The 12 partitions of the command topic split over the three members.
    const spread = (await admin.describeGroups([c.group])).groups[0].members.map((m) =>
      Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0),
    );
    expect(spread.reduce((a, b) => a + b, 0)).toBe(12);
    expect(spread.every((n) => n >= 1), JSON.stringify(spread)).toBe(true);

    // Rolling restart: each instance in turn, SIGTERM -> clean exit -> replacement ready.
    const exits = [];
    for (let i = 0; i < c.processes.length; i++) {
      const old: ServiceProcess = c.processes[i];
      exits.push(await old.stop('SIGTERM', 30_000));
      c.processes[i] = await startServiceProcess({ service: 'inventory', env });
    }
    await c.waitForAsync('3 members after the restarts', async () => (await members()) === 3, 60_000);
    loading = false;
    await load;
    await admin.disconnect();
    expect(exits.every((e) => e.code === 0), JSON.stringify(exits)).toBe(true);

    const all = [...reserveOnly.map((o) => o.orderId), ...reserveThenRelease];
    const outcome = (orderId: string) => c.of('StockReserved', { orderId }).length + c.of('StockShortage', { orderId }).length > 0;
    await c.waitFor(`${all.length} outcomes`, () => all.every(outcome) && reserveThenRelease.every((o) => c.of('StockReleased', { orderId: o }).length > 0), 90_000);

    // No loss, no duplicate effect: one distinct StockReserved per order (redeliveries carry the same event id), no shortage.
    const distinct = (type: string, orderId: string) => new Set(c.of(type, { orderId }).map((e) => e.eventId)).size;
    for (const orderId of all) {
      expect(distinct('StockReserved', orderId), orderId).toBe(1);
      expect(distinct('StockShortage', orderId), orderId).toBe(0);
    }
    // Per-order order: every Reserve-then-Release pair ended released, once.
    for (const orderId of reserveThenRelease) expect(distinct('StockReleased', orderId), orderId).toBe(1);

    // Balanced: reserved per SKU = the open (reserve-only) orders' quantities; on_hand untouched; verify clean.
    const expected = new Map(SKUS.map((s) => [s, 0]));
    for (const o of reserveOnly) expected.set(o.sku, (expected.get(o.sku) ?? 0) + o.quantity);
    const rows = (await c.pool.query(`SELECT sku, on_hand, reserved FROM inventory.stock WHERE sku LIKE 'SKU-SCALE-%' AND warehouse_id = 'WH-SH'`)).rows;
    expect(Object.fromEntries(rows.map((r) => [r.sku, [r.on_hand, r.reserved]]))).toEqual(Object.fromEntries(SKUS.map((s) => [s, [STOCK, expected.get(s)]])));
    const verify = await fetch(`${c.processes[0].httpUrl}/api/stock/verify`);
    expect(((await verify.json()) as { consistent: boolean }).consistent).toBe(true);
    console.log(`scale-out: partitions per member ${JSON.stringify(spread)}, ${all.length} orders (${reserveThenRelease.length} reserve+release) over 2 -> 3 members and 3 rolling restarts, exits ${JSON.stringify(exits.map((e) => e.code))}`);
  });
});
