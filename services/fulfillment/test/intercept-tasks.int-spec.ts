import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { interceptTasks } from '../src/application/intercept-tasks.query';
import { shipmentIdOf } from '../src/domain/order-fulfillment.decider';
import { FULFILLMENT_SCHEMA } from '../src/infra/fulfillment-schema';

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
  await pool.query(FULFILLMENT_SCHEMA);
  store = await PostgresEventStore.create({ pool });
  handler = new FulfillmentHandler(pool, store, () => ulid());
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function parcel(orderId: string, warehouseId: string, packed: boolean): Promise<string> {
  await handler.execute(orderId, { type: 'StartFulfillment', data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 1, warehouseId }], priority: 'normal', requiresQc: false }, at: T }, meta());
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
});
