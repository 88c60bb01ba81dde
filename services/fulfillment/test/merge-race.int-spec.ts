import type { EventEnvelope } from '@flowline/contracts';
import { isDomainError } from '@flowline/domain';
import { OutOfOrderAppend, PostgresEventStore, WrongExpectedVersion } from '@flowline/eventstore';
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
import { fulfillmentStream } from '../src/domain/order-fulfillment.decider';
import { migrateFulfillment } from '../src/infra/fulfillment-schema';
import { loadSkuWeights } from '../src/infra/fulfillment-rules.loader';
import { SimulatedCarrier } from '../src/infra/simulated-carrier';

/*
 * Merged parcels (合单, ADR 0013) on PostgreSQL: StartFulfillment / StopFulfillment through the
 * consumer's handler in real transactions (as the Kafka consumer runs them, retried whole after a
 * lost race), warehouse actions through the service. Two orders of one group share a box; then
 * "refund of one order" races "pack the box", many times: exactly one outcome each run, either
 * the order left first (the box packed with the other order only) or the box was packed first
 * (both packed, the refunded order's parcel waits for its intercept). Never both, never neither.
 */

const RUNS = 60;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
let store: PostgresEventStore;
let handler: FulfillmentHandler;
let service: FulfillmentService;
let merges: MergeHandler;
let carriers: CarrierRegistry;
let consume: (envelope: EventEnvelope, tx: PgTransaction) => Promise<void>;
const ulid = monotonicFactory();
const rules = parseMergeRules({ version: 'm-test', default: { enabled: false, windowMinutes: 30 }, shops: { 'shop-m': { enabled: true, windowMinutes: 30 } } });
const meta = () => {
  const id = ulid();
  return { commandId: id, correlationId: id, causationId: null };
};

beforeAll(async () => {
  db = await createTestDatabase('fulfillment_merge');
  pool = new Pool({ connectionString: db.url, max: 10 });
  await migrateFulfillment(pool);
  store = await PostgresEventStore.create({ pool });
  handler = new FulfillmentHandler(pool, store, () => ulid());
  merges = new MergeHandler(store, () => ulid(), rules);
  carriers = new CarrierRegistry();
  carriers.register(new SimulatedCarrier(() => ulid()));
  const carrierRules = loadCarrierRules();
  service = new FulfillmentService(pool, handler, carriers, 'SIM', () => Promise.resolve(), merges, (input) => chooseCarrier(carrierRules, input));
  consume = fulfillmentCommandHandler(handler, (input) => chooseCarrier(carrierRules, input), [], { merges, weights: loadSkuWeights() });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await db?.drop();
});

/** A command as the Kafka consumer runs it: one transaction, run again whole after a lost race. */
async function deliver(type: 'StartFulfillment' | 'StopFulfillment', data: unknown): Promise<void> {
  const envelope = { eventId: ulid(), type, data, correlationId: ulid(), occurredAt: new Date().toISOString() } as unknown as EventEnvelope;
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await consume(envelope, { client, query: client.query.bind(client) } as unknown as PgTransaction);
      await client.query('COMMIT');
      return;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((e instanceof WrongExpectedVersion || e instanceof OutOfOrderAppend) && attempt < 50) continue;
      throw e;
    } finally {
      client.release();
    }
  }
}

const start = (orderId: string, buyerKey: string, sku: string, warehouseId = 'WH-HZ') =>
  deliver('StartFulfillment', { orderId, lines: [{ lineId: 'L1', sku, quantity: 1, warehouseId }], priority: 'normal', requiresQc: false, shopId: 'shop-m', buyerKey, addressKey: 'addr-1' });

async function types(orderId: string): Promise<string[]> {
  return (await store.readStream(fulfillmentStream(orderId))).map((e) => e.type);
}

describe('merged parcels on PostgreSQL', () => {
  it('two orders of a group share a box (weights from the SKU file); another warehouse or a disabled shop is not merged; a redelivered start changes nothing', async () => {
    const buyer = `b-${ulid()}`;
    const [a, b, c] = [`ma-${ulid()}`, `mb-${ulid()}`, `mc-${ulid()}`];
    await start(a, buyer, 'TEA-LJ-250');
    await start(b, buyer, 'CUP-CLAY-01');
    await start(b, buyer, 'CUP-CLAY-01');
    await start(c, buyer, 'TEA-LJ-250', 'WH-SH');
    const [oa, ob, oc] = [await service.order(a), await service.order(b), await service.order(c)];
    const m = oa.shipments[0].mergeParcelId as string;
    expect(m).toMatch(/^MRG-shop-m-1-/);
    expect(ob.shipments[0].mergeParcelId).toBe(m);
    expect(oc.shipments[0].mergeParcelId).not.toBe(m);
    const box = await service.mergedView(m);
    expect(box).toMatchObject({ mergedOrderIds: [a, b], weightGrams: 300 + 450, mergeStatus: 'open' });
    expect(await types(b)).toEqual(['FulfillmentStarted']);
    const other = `mo-${ulid()}`;
    await deliver('StartFulfillment', { orderId: other, lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 1, warehouseId: 'WH-HZ' }], priority: 'normal', requiresQc: false, shopId: 'shop-off', buyerKey: buyer, addressKey: 'addr-1' });
    expect((await service.order(other)).shipments[0].mergeParcelId).toBeNull();
  });

  it(`refund of one order versus packing the box: exactly one outcome in each of ${RUNS} concurrent runs`, async () => {
    const outcomes = { leftFirst: 0, packedFirst: 0 };
    for (let i = 0; i < RUNS; i++) {
      const buyer = `race-${i}-${ulid()}`;
      const [a, b] = [`ra-${i}-${ulid()}`, `rb-${i}-${ulid()}`];
      await start(a, buyer, 'TEA-LJ-250');
      await start(b, buyer, 'CUP-CLAY-01');
      const m = (await service.order(a)).shipments[0].mergeParcelId as string;
      // The box waits for orders until its window ends (30 min): a person releases it to pick it now.
      await service.releaseMerged(m, '不再等合单', meta());
      await service.actMerged(m, { type: 'ScanItem', sku: 'TEA-LJ-250', quantity: 1 }, meta());
      await service.actMerged(m, { type: 'ScanItem', sku: 'CUP-CLAY-01', quantity: 1 }, meta());
      const [pack, stop] = await Promise.allSettled([service.actMerged(m, { type: 'PackShipment' }, meta()), deliver('StopFulfillment', { orderId: a, reason: '买家申请退款' })]);
      expect(stop.status === 'rejected' ? String(stop.reason) : 'ok', `run ${i}: the stop is never refused`).toBe('ok');
      expect(pack.status === 'rejected' ? String(pack.reason) : 'ok', `run ${i}: the box is packed (with what is left)`).toBe('ok');
      const [ta, tb] = [await types(a), await types(b)];
      const [oa, ob] = [await service.order(a), await service.order(b)];
      const box = await service.mergedView(m);
      expect(ob.shipments[0].status, `run ${i}`).toBe('packed');
      if (oa.shipments[0].status === 'stopped') {
        // The refund went first: a left the box before packing; the box holds b alone.
        expect(ta).not.toContain('ShipmentPacked');
        expect(ta.slice(-2)).toEqual(['FulfillmentStopRequested', 'FulfillmentStopped']);
        expect(ob.shipments[0].mergedOrderIds, `run ${i}`).toEqual([b]);
        expect(box.mergedOrderIds).toEqual([b]);
        outcomes.leftFirst++;
      } else {
        // The pack went first: both packed with one waybill; a's stop becomes its intercept.
        expect(oa.shipments[0].status, `run ${i}`).toBe('intercept_requested');
        expect(ta.slice(-3)).toEqual(['ShipmentPacked', 'FulfillmentStopRequested', 'ShipmentInterceptRequested']);
        expect(ta).not.toContain('FulfillmentStopped');
        expect(ob.shipments[0].mergedOrderIds, `run ${i}`).toEqual([a, b]);
        expect(oa.shipments[0].waybillNo).toBe(ob.shipments[0].waybillNo);
        outcomes.packedFirst++;
      }
      expect(tb.filter((t) => t === 'ShipmentPacked')).toHaveLength(1);
    }
    expect(outcomes.leftFirst + outcomes.packedFirst).toBe(RUNS);
    console.log(`merge refund-vs-pack: ${RUNS} runs, left first ${outcomes.leftFirst}, packed first ${outcomes.packedFirst}`);
  }, 300_000);

  it('after a wrong item and too many units the box scans as one; a member\'s id acts on the whole box', async () => {
    const buyer = `s-${ulid()}`;
    const [a, b] = [`sa-${ulid()}`, `sb-${ulid()}`];
    await start(a, buyer, 'TEA-LJ-250');
    await start(b, buyer, 'TEA-LJ-250');
    const m = (await service.order(a)).shipments[0].mergeParcelId as string;
    // The box waits for orders until its window ends (30 min): a person releases it to pick it now.
    await service.releaseMerged(m, '不再等合单', meta());
    await expect(service.actMerged(m, { type: 'ScanItem', sku: 'CUP-CLAY-01', quantity: 1 }, meta())).rejects.toSatisfy((e) => isDomainError(e) && e.code === 'SCAN_WRONG_SKU');
    await expect(service.actMerged(m, { type: 'ScanItem', sku: 'TEA-LJ-250', quantity: 3 }, meta())).rejects.toSatisfy((e) => isDomainError(e) && e.code === 'SCAN_QUANTITY_EXCEEDED');
    const scanned = await service.act(`SHP-${b}-1`, { type: 'ScanItem', sku: 'TEA-LJ-250', quantity: 2 }, meta());
    expect(scanned).toMatchObject({ shipmentId: `SHP-${b}-1`, status: 'picking', scanned: { 'TEA-LJ-250': 1 } });
    expect((await service.mergedView(m)).scanned).toEqual({ 'TEA-LJ-250': 2 });
    const packed = await service.act(`SHP-${a}-1`, { type: 'PackShipment' }, meta());
    expect(packed).toMatchObject({ status: 'packed', mergedOrderIds: [a, b] });
    expect((await service.order(b)).shipments[0].waybillNo).toBe(packed.waybillNo);
  });

  it('the box\'s carrier is chosen again from its orders together: two 6 kg orders (each default) make a 12 kg box (heavy-cheapest), recorded with the rule version', async () => {
    const buyer = `w-${ulid()}`;
    const [a, b] = [`wa-${ulid()}`, `wb-${ulid()}`];
    for (const orderId of [a, b]) {
      await deliver('StartFulfillment', {
        orderId,
        lines: [{ lineId: 'L1', sku: 'RICE-5KG', quantity: 1, warehouseId: 'WH-HZ', weightGrams: 6000 }],
        priority: 'normal',
        requiresQc: false,
        shopId: 'shop-m',
        buyerKey: buyer,
        addressKey: 'addr-1',
        destination: { province: '浙江省' },
        channel: 'tmall',
        grandTotal: 9000,
      });
      expect((await service.order(orderId)).carrierChoice).toEqual({ carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.12.2', weightGrams: 6000 });
    }
    const m = (await service.order(a)).shipments[0].mergeParcelId as string;
    // The box waits for orders until its window ends (30 min): a person releases it to pick it now.
    await service.releaseMerged(m, '不再等合单', meta());
    await service.actMerged(m, { type: 'ScanItem', sku: 'RICE-5KG', quantity: 2 }, meta());
    const packed = await service.actMerged(m, { type: 'PackShipment' }, meta());
    expect(packed.carrierChoice).toEqual({ carrier: 'ZTO', ruleId: 'heavy-cheapest', ruleSetVersion: '2026.12.2', weightGrams: 12000 });
    // ZTO has no adapter here: the box is packed with the default carrier, the choice stays recorded.
    expect(packed).toMatchObject({ status: 'packed', carrier: 'SIM', weightGrams: 12000, mergedOrderIds: [a, b] });
  });

  it('a merged box is not on the pick list and cannot be picked, scanned or packed while its window is open; a person releases it, or the window ends', async () => {
    const buyer = `w-${ulid()}`;
    const [a, b] = [`wa-${ulid()}`, `wb-${ulid()}`];
    const warehouse = `WH-W-${ulid()}`;
    await start(a, buyer, 'TEA-LJ-250', warehouse);
    await start(b, buyer, 'CUP-CLAY-01', warehouse);
    const m = (await service.order(a)).shipments[0].mergeParcelId as string;
    expect((await service.order(b)).shipments[0].mergeParcelId).toBe(m);
    // Inside the window: held back, every warehouse action on the box (or a member's parcel) refused.
    expect(await service.pickList(warehouse)).toEqual([]);
    for (const action of [{ type: 'StartPicking' as const }, { type: 'ScanItem' as const, sku: 'TEA-LJ-250', quantity: 1 }, { type: 'PackShipment' as const }]) {
      await expect(service.act(`SHP-${a}-1`, action, meta())).rejects.toMatchObject({ code: 'MERGE_WINDOW_OPEN', details: { parcelId: m } });
    }
    expect((await service.mergedView(m)).mergeStatus).toBe('open');
    // The window ended (the clock of another service instance, 30 min on): listed once, picking seals it as window_closed.
    const windowEndsAt = (await service.mergedView(m)).windowEndsAt;
    const later = new FulfillmentService(pool, handler, carriers, 'SIM', () => Promise.resolve(), merges, undefined, () => windowEndsAt);
    expect((await later.pickList(warehouse)).map((x) => x.shipmentId)).toEqual([m]);
    const picked = await later.act(m, { type: 'StartPicking' }, meta());
    expect(picked).toMatchObject({ status: 'picking', mergeStatus: 'sealed' });
    const sealed = (await store.readStream(`merge-${(await merges.row(pool, m)).group_key}`)).filter((e) => e.type === 'MergeParcelSealed');
    expect(sealed.map((e) => (e.data as { reason: string }).reason)).toEqual(['window_closed']);

    // Another box: a person releases it inside the window: on the pick list at once, who and why kept.
    const [c, d] = [`wc-${ulid()}`, `wd-${ulid()}`];
    const buyer2 = `w2-${ulid()}`;
    await start(c, buyer2, 'TEA-LJ-250', warehouse);
    await start(d, buyer2, 'CUP-CLAY-01', warehouse);
    const m2 = (await service.order(c)).shipments[0].mergeParcelId as string;
    expect((await service.pickList(warehouse)).map((x) => x.shipmentId)).toEqual([m]);
    const released = await service.releaseMerged(`SHP-${d}-1`, '买家催发货', { ...meta(), actor: { kind: 'user', id: 'u-wh-1', role: 'warehouse' } });
    expect(released).toMatchObject({ shipmentId: m2, mergeStatus: 'sealed', mergedOrderIds: [c, d] });
    expect((await service.pickList(warehouse)).map((x) => x.shipmentId).sort()).toEqual([m, m2].sort());
    const log = (await store.readStream(`merge-${(await merges.row(pool, m2)).group_key}`)).filter((e) => e.type === 'MergeParcelSealed');
    expect(log.map((e) => e.data)).toEqual([expect.objectContaining({ parcelId: m2, reason: 'released', by: { id: 'u-wh-1', role: 'warehouse' }, note: '买家催发货' })]);
    await expect(service.act(m2, { type: 'StartPicking' }, meta())).resolves.toMatchObject({ status: 'picking' });
  });

  it('a JD order: JD-delivered (京配, designatedCarrier JD) is forced onto JD with the rule version; seller-shipped (商家自配送, none named) is chosen by the rules; another designation of the order wins', async () => {
    const jd = `jd-${ulid()}`;
    const self = `jd-self-${ulid()}`;
    const own = `jd-own-${ulid()}`;
    const base = { lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 1, warehouseId: 'WH-HZ' }], priority: 'normal', requiresQc: false, channel: 'jd', grandTotal: 500_000, destination: { province: '浙江省' } };
    await deliver('StartFulfillment', { ...base, orderId: jd, designatedCarrier: 'JD' });
    await deliver('StartFulfillment', { ...base, orderId: self });
    await deliver('StartFulfillment', { ...base, orderId: own, designatedCarrier: 'SF' });
    expect((await service.order(jd)).carrierChoice).toEqual({ carrier: 'JD', ruleId: 'platform-designated', ruleSetVersion: '2026.12.2', weightGrams: 300, designated: true });
    expect((await service.order(self)).carrierChoice).toEqual({ carrier: 'SF', ruleId: 'high-value-sf', ruleSetVersion: '2026.12.2', weightGrams: 300 });
    expect((await service.order(own)).carrierChoice).toMatchObject({ carrier: 'SF', ruleId: 'platform-designated', designated: true });
  });
});

