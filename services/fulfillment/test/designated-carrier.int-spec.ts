import type { EventEnvelope } from '@flowline/contracts';
import { PostgresEventStore } from '@flowline/eventstore';
import type { PgTransaction } from '@flowline/messaging';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fulfillmentCommandHandler } from '../src/api/messaging/fulfillment-commands.consumer';
import { CarrierRegistry } from '../src/application/carrier.port';
import { FulfillmentHandler } from '../src/application/fulfillment.handler';
import { FulfillmentService } from '../src/application/fulfillment.service';
import { MergeHandler } from '../src/application/merge.handler';
import { chooseCarrier } from '../src/domain/carrier-rules';
import { parseMergeRules } from '../src/domain/merge-parcel.decider';
import { loadCarrierRules } from '../src/infra/carrier-rules.loader';
import { SfExpressCarrier } from '../src/infra/carriers/sf-express.adapter';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';
import { loadSkuWeights } from '../src/infra/fulfillment-rules.loader';
import { SimulatedCarrier } from '../src/infra/simulated-carrier';
import { startSfExpressFake, type SfFake } from './fakes/sf-express.fake-server';

/*
 * A platform-designated carrier at packing, through the warehouse's pack (the path REST and gRPC
 * take) with the SF Express connector against its local fake and the real PostgreSQL: the
 * designated carrier's connector prints the waybill even when the rules alone would pick another
 * carrier; the warehouse cannot pack it with another carrier; a designated carrier without a
 * connector here is refused (not silently printed with the default carrier) unless the warehouse
 * brings that carrier's waybill number; a merged box with a designated order goes the same way.
 */

const ulid = monotonicFactory();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let service: FulfillmentService;
let sf: SfFake;
let consume: (envelope: EventEnvelope, tx: PgTransaction) => Promise<void>;
const meta = () => {
  const id = ulid();
  return { commandId: id, correlationId: id, causationId: null };
};

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_designated');
  pool = new Pool({ connectionString: db.url, max: 4 });
  await migrateFulfillment(pool);
  store = await PostgresEventStore.create({ pool });
  sf = await startSfExpressFake();
  const handler = new FulfillmentHandler(pool, store, () => ulid());
  const merges = new MergeHandler(store, () => ulid(), parseMergeRules({ version: 'd', default: { enabled: false, windowMinutes: 30 }, shops: { 'shop-d': { enabled: true, windowMinutes: 30 } } }));
  const carriers = new CarrierRegistry();
  carriers.register(new SimulatedCarrier(() => ulid()));
  carriers.register(new SfExpressCarrier({ url: sf.url, partnerId: sf.partnerId, checkWord: sf.checkWord }, () => ulid()));
  const rules = loadCarrierRules();
  service = new FulfillmentService(pool, handler, carriers, 'SIM', () => Promise.resolve(), merges, (input) => chooseCarrier(rules, input));
  consume = fulfillmentCommandHandler(handler, (input) => chooseCarrier(rules, input), [], { merges, weights: loadSkuWeights() });
}, 60_000);

afterAll(async () => {
  await sf?.close();
  await store?.close();
  await pool?.end();
  await db?.drop();
});

async function startOrder(orderId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const envelope = {
    eventId: ulid(),
    type: 'StartFulfillment',
    correlationId: ulid(),
    occurredAt: new Date().toISOString(),
    data: { orderId, lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 1, warehouseId: 'WH-HZ' }], priority: 'normal', requiresQc: false, channel: 'tmall', grandTotal: 10_000, destination: { province: '浙江省' }, ...extra },
  } as unknown as EventEnvelope;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await consume(envelope, { client, query: client.query.bind(client) } as unknown as PgTransaction);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  return (await service.order(orderId)).shipments[0].shipmentId;
}

async function scanned(shipmentId: string): Promise<void> {
  await service.act(shipmentId, { type: 'ScanItem', sku: 'TEA-LJ-250', quantity: 1 }, meta());
}

describe('designated carrier at packing (real PostgreSQL, SF connector against its fake)', () => {
  it('an order designating SF is packed with a waybill from the SF connector, though the rules alone would choose the default carrier', async () => {
    const before = sf.waybills.length;
    const shipmentId = await startOrder(`dc-sf-${ulid()}`, { designatedCarrier: 'SF' });
    await scanned(shipmentId);
    const packed = await service.act(shipmentId, { type: 'PackShipment' }, meta());
    expect(packed).toMatchObject({ status: 'packed', carrier: 'SF' });
    expect(sf.waybills.length).toBe(before + 1);
    expect(sf.waybills).toContain(packed.waybillNo);
  });

  it('the warehouse naming another carrier for a designated order is refused (CARRIER_DESIGNATED), nothing is printed or packed', async () => {
    const shipmentId = await startOrder(`dc-other-${ulid()}`, { designatedCarrier: 'SF' });
    await scanned(shipmentId);
    const before = sf.requests.length;
    await expect(service.act(shipmentId, { type: 'PackShipment', carrier: 'SIM' }, meta())).rejects.toMatchObject({ code: 'CARRIER_DESIGNATED', kind: 'invalid', details: { field: 'carrier', designated: 'SF' } });
    expect(sf.requests.length).toBe(before);
    expect((await service.shipment(shipmentId)).status).toBe('picking');
  });

  it('a designated carrier without a connector here (JD) is refused instead of the default carrier; with the JD waybill number brought by the warehouse it is packed as JD', async () => {
    const shipmentId = await startOrder(`dc-jd-${ulid()}`, { channel: 'jd', designatedCarrier: 'JD' });
    await scanned(shipmentId);
    await expect(service.act(shipmentId, { type: 'PackShipment' }, meta())).rejects.toMatchObject({ code: 'CARRIER_NOT_CONFIGURED', details: { field: 'carrier', carrier: 'JD', designated: true } });
    expect((await service.shipment(shipmentId)).status).toBe('picking');
    const packed = await service.act(shipmentId, { type: 'PackShipment', waybillNo: 'JDVA00012345678' }, meta());
    expect(packed).toMatchObject({ status: 'packed', carrier: 'JD', waybillNo: 'JDVA00012345678' });
  });

  it('a merged box holding a designated order is packed with the designated carrier\'s waybill, and the warehouse cannot override it', async () => {
    const keys = { shopId: 'shop-d', buyerKey: `b-${ulid()}`, addressKey: 'a-1' };
    const a = await startOrder(`dc-ma-${ulid()}`, { ...keys, designatedCarrier: 'SF' });
    const b = await startOrder(`dc-mb-${ulid()}`, keys);
    const box = (await service.shipment(a)).mergeParcelId as string;
    expect((await service.shipment(b)).mergeParcelId).toBe(box);
    await service.releaseMerged(box, '不再等合单', meta());
    await service.actMerged(box, { type: 'ScanItem', sku: 'TEA-LJ-250', quantity: 2 }, meta());
    await expect(service.actMerged(box, { type: 'PackShipment', carrier: 'SIM' }, meta())).rejects.toMatchObject({ code: 'CARRIER_DESIGNATED' });
    const packed = await service.actMerged(box, { type: 'PackShipment' }, meta());
    expect(packed).toMatchObject({ status: 'packed', carrier: 'SF', carrierChoice: { carrier: 'SF', ruleId: 'platform-designated', designated: true } });
    expect(sf.waybills).toContain(packed.waybillNo);
  });
});
