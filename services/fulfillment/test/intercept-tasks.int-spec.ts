import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { interceptTasks } from '../src/application/intercept-tasks.query';
import { shipmentIdOf } from '../src/domain/order-fulfillment.decider';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';

/** The intercept task list (warehouse screen): real PostgreSQL, the handler drives the parcels. */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let handler: FulfillmentHandler;
const ulid = monotonicFactory();
const meta = () => {
  const id = ulid();
  return { commandId: id, correlationId: id, causationId: null };
};
const T = '2026-01-05T08:00:00.000Z';

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_intercepts');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await migrateFulfillment(pool);
  store = await PostgresEventStore.create({ pool });
  handler = new FulfillmentHandler(pool, store, () => ulid());
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function parcel(orderId: string, warehouseId: string, packed: boolean, shopId?: string): Promise<string> {
  await handler.execute(
    orderId,
    { type: 'StartFulfillment', data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 1, warehouseId }], priority: 'normal', requiresQc: false, ...(shopId ? { shopId } : {}) }, at: T },
    meta(),
  );
  const shipmentId = shipmentIdOf(orderId, 0);
  await handler.execute(orderId, { type: 'ScanItem', shipmentId, sku: 'TEA-LJ', quantity: 1, at: T }, meta());
  if (packed) await handler.execute(orderId, { type: 'PackShipment', shipmentId, waybillNo: `WB-${orderId}`, carrier: 'SIM', at: T }, meta());
  return shipmentId;
}

const stop = (orderId: string) => handler.execute(orderId, { type: 'StopFulfillment', data: { orderId, reason: '买家取消' }, at: T }, meta());

describe('intercept tasks of a warehouse', () => {
  it('lists the packed parcels whose order was stopped, not those stopped before packing, not other warehouses; a confirmed intercept leaves the list', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => `ic-${x}-${ulid()}`) as [string, string, string, string];
    const shipA = await parcel(a, 'WH-IC', true);
    await stop(a);
    await parcel(b, 'WH-IC', false);
    await stop(b);
    await parcel(c, 'WH-OTHER', true);
    await stop(c);
    await parcel(d, 'WH-IC', true);
    const tasks = await interceptTasks(pool, 'WH-IC', 100);
    expect(tasks.map((t) => [t.orderId, t.shipmentId, t.waybillNo])).toEqual([[a, shipA, `WB-${a}`]]);
    expect(tasks[0]!.since).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await handler.execute(a, { type: 'ConfirmIntercept', shipmentId: shipA, at: T }, meta());
    expect(await interceptTasks(pool, 'WH-IC', 100)).toEqual([]);
  });

  it('a shop-limited caller lists its shops\' parcels and those of orders started before shops were kept (no shop), not another shop\'s', async () => {
    const [tm, jd, old] = ['tm', 'jd', 'old'].map((x) => `ic-${x}-${ulid()}`) as [string, string, string];
    await parcel(tm, 'WH-SHOPS', true, 'tmall-flagship');
    await parcel(jd, 'WH-SHOPS', true, 'jd-flagship');
    await parcel(old, 'WH-SHOPS', true);
    for (const o of [tm, jd, old]) await stop(o);
    const listed = async (shops?: string[]) => (await interceptTasks(pool, 'WH-SHOPS', 100, shops)).map((t) => t.orderId).sort();
    expect(await listed()).toEqual([tm, jd, old].sort());
    expect(await listed(['jd-flagship'])).toEqual([jd, old].sort());
    expect(await listed([])).toEqual([old]);
    // The pick list filters the same way (parcels not packed yet).
    const [p1, p2] = ['p1', 'p2'].map((x) => `pk-${x}-${ulid()}`) as [string, string];
    await handler.execute(p1, { type: 'StartFulfillment', data: { orderId: p1, lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 1, warehouseId: 'WH-PICK' }], priority: 'normal', requiresQc: false, shopId: 'tmall-flagship' }, at: T }, meta());
    await handler.execute(p2, { type: 'StartFulfillment', data: { orderId: p2, lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 1, warehouseId: 'WH-PICK' }], priority: 'normal', requiresQc: false, shopId: 'jd-flagship' }, at: T }, meta());
    const rows = await pool.query<{ order_id: string; shop_id: string | null }>(`SELECT order_id, shop_id FROM shipments WHERE warehouse_id = 'WH-PICK' ORDER BY order_id`);
    expect(rows.rows).toEqual([{ order_id: p1, shop_id: 'tmall-flagship' }, { order_id: p2, shop_id: 'jd-flagship' }].sort((a, b) => a.order_id.localeCompare(b.order_id)));
  });
});
