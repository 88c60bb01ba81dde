import { isDomainError } from '@flowline/domain';
import { PostgresEventStore } from '@flowline/eventstore';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { fulfillmentStream, shipmentIdOf } from '../src/domain/order-fulfillment.decider';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';

/*
 * "Stop arrives while pack is being recorded", for real: the handler's two commands race on one
 * order's stream in PostgreSQL, 200 times. Each run has exactly one outcome: either the stop went
 * first (parcel stopped, packing refused with SHIPMENT_STOPPED) or the pack went first (parcel
 * packed, then an intercept raised by the stop). Never packed-and-stopped, never neither.
 */

const RUNS = 200;
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
  db = await createTestDatabase('fulfillment_race');
  pool = new Pool({ connectionString: db.url, max: 8 });
  await migrateFulfillment(pool);
  store = await PostgresEventStore.create({ pool });
  handler = new FulfillmentHandler(pool, store, () => ulid());
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function scannedOrder(orderId: string): Promise<string> {
  await handler.execute(orderId, { type: 'StartFulfillment', data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 2, warehouseId: 'WH-HZ' }], priority: 'normal', requiresQc: false }, at: T }, meta());
  const shipmentId = shipmentIdOf(orderId, 0);
  await handler.execute(orderId, { type: 'ScanItem', shipmentId, sku: 'TEA-LJ', quantity: 2, at: T }, meta());
  return shipmentId;
}

describe('stop versus pack', () => {
  it(`has exactly one outcome in each of ${RUNS} concurrent runs`, async () => {
    const outcomes = { stopFirst: 0, packFirst: 0 };
    for (let i = 0; i < RUNS; i++) {
      const orderId = `race-${i}-${ulid()}`;
      const shipmentId = await scannedOrder(orderId);
      const [pack, stop] = await Promise.allSettled([
        handler.execute(orderId, { type: 'PackShipment', shipmentId, waybillNo: `WB-${i}`, carrier: 'SIM', at: T }, meta()),
        handler.execute(orderId, { type: 'StopFulfillment', data: { orderId, reason: '买家取消' }, at: T }, meta()),
      ]);
      expect(stop.status === "rejected" ? String(stop.reason) : "ok", `run ${i}: the stop is never refused`).toBe("ok");
      const types = (await store.readStream(fulfillmentStream(orderId))).map((e) => e.type);
      const row = await pool.query<{ status: string }>('SELECT status FROM shipments WHERE shipment_id = $1', [shipmentId]);
      if (pack.status === 'rejected') {
        expect(isDomainError(pack.reason) && pack.reason.code, `run ${i}`).toBe('SHIPMENT_STOPPED');
        expect(types.slice(-2)).toEqual(['FulfillmentStopRequested', 'FulfillmentStopped']);
        expect(types).not.toContain('ShipmentPacked');
        expect(row.rows[0].status).toBe('stopped');
        outcomes.stopFirst++;
      } else {
        expect(types.slice(-3)).toEqual(['ShipmentPacked', 'FulfillmentStopRequested', 'ShipmentInterceptRequested']);
        expect(types).not.toContain('FulfillmentStopped');
        expect(row.rows[0].status).toBe('intercept_requested');
        outcomes.packFirst++;
      }
    }
    expect(outcomes.stopFirst + outcomes.packFirst).toBe(RUNS);
    console.log(`stop-vs-pack: ${RUNS} runs, stop first ${outcomes.stopFirst}, pack first ${outcomes.packFirst}`);
  }, 240_000);
});
