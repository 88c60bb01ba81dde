import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fold } from '@flowline/domain';
import { deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allocateScan, assertMergeParcelPickable, mergeGroupKeyOf, mergeParcelPickable, mergeGroupOf, mergeParcelDecider, mergeRuleFor, parcelLines, parseMergeRules, type MergeCommand, type MergeEvent, type MergeMember } from './merge-parcel.decider';

const spec = deciderSpec(mergeParcelDecider);
const T0 = '2026-01-05T08:00:00.000Z';
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();
const RULES = parseMergeRules({ version: 'm-1', default: { enabled: false, windowMinutes: 30 }, shops: { 'tmall-flagship': { enabled: true, windowMinutes: 30 } } });
const ON = mergeRuleFor(RULES, 'tmall-flagship');
const address = { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路 1 号', recipient: '王芳', phone: '13800001111' };
const G = mergeGroupOf({ shopId: 'tmall-flagship', buyerId: 'buyer-1', address });
const L1 = [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 2 }];
const L2 = [{ lineId: 'L1', sku: 'CUP-01', quantity: 4 }];

const offer = (orderId: string, lines = L1, min = 0, rule = ON): Extract<MergeCommand, { type: 'OfferOrderForMerge' }> => ({ type: 'OfferOrderForMerge', groupKey: G, orderId, shopId: 'tmall-flagship', lines, rule, at: at(min) });
const events = (cmds: MergeCommand[]): MergeEvent[] => {
  const out: MergeEvent[] = [];
  for (const c of cmds) out.push(...mergeParcelDecider.decide(c, fold(mergeParcelDecider, out)));
  return out;
};

describe('merge (合单) rules as data', () => {
  it('per-shop override, else the default; the version travels with the rule', () => {
    expect(mergeRuleFor(RULES, 'tmall-flagship')).toEqual({ enabled: true, windowMinutes: 30, version: 'm-1' });
    expect(mergeRuleFor(RULES, 'jd-shop')).toEqual({ enabled: false, windowMinutes: 30, version: 'm-1' });
  });
  it('the shipped rule file parses', () => {
    const shipped = parseMergeRules(parse(readFileSync(resolve(__dirname, '../../rules/merge-rules.yaml'), 'utf8')), 'merge-rules.yaml');
    expect(mergeRuleFor(shipped, 'tmall-flagship')).toMatchObject({ enabled: true, windowMinutes: 30 });
    expect(mergeRuleFor(shipped, 'unknown-shop').enabled).toBe(false);
  });
  it('a faulty rule set names the path', () => {
    expect(() => parseMergeRules({ version: 'x', default: { enabled: true, windowMinutes: 0 } })).toThrow('merge rules: default.windowMinutes must be 1-1440');
    expect(() => parseMergeRules({ version: 'x', default: { enabled: true, windowMinutes: 5 }, shops: { s: { enabled: 'yes', windowMinutes: 5 } } })).toThrow('shops.s.enabled');
  });
  it('same buyer and address (spacing and case aside) are one group; another address or shop is another', () => {
    expect(mergeGroupOf({ shopId: 'tmall-flagship', buyerId: 'BUYER-1', address: { ...address, street: '文三路  1 号 ' } })).toBe(G);
    expect(mergeGroupOf({ shopId: 'tmall-flagship', buyerId: 'buyer-1', address: { ...address, detail: '2 单元' } })).not.toBe(G);
    expect(mergeGroupOf({ shopId: 'jd-shop', buyerId: 'buyer-1', address })).not.toBe(G);
  });
});

describe('merge parcel decider', () => {
  it('the first order opens a parcel with a window (rule version recorded); a second within the window joins it', () => {
    const first = events([offer('o-1')]);
    expect(first.map((e) => e.type)).toEqual(['MergeParcelOpened', 'OrderJoinedMergeParcel']);
    const opened = first[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>;
    expect(opened.data).toMatchObject({ windowEndsAt: at(30), ruleVersion: 'm-1', shopId: 'tmall-flagship' });
    const parcelId = opened.data.parcelId;
    spec.given(first).when(offer('o-2', L2, 29)).then([{ type: 'OrderJoinedMergeParcel', data: { parcelId, orderId: 'o-2', lines: L2, ruleVersion: 'm-1', at: at(29) } }]);
    const s = fold(mergeParcelDecider, events([offer('o-1'), offer('o-2', L2, 29)]));
    expect(parcelLines(s.parcels[0])).toEqual([{ ...L1[0], orderId: 'o-1' }, { ...L2[0], orderId: 'o-2' }]);
  });

  it('after the window the old parcel is sealed and the order opens a new one', () => {
    const out = events([offer('o-1'), offer('o-2', L2, 31)]);
    expect(out.map((e) => e.type)).toEqual(['MergeParcelOpened', 'OrderJoinedMergeParcel', 'MergeParcelSealed', 'MergeParcelOpened', 'OrderJoinedMergeParcel']);
    const s = fold(mergeParcelDecider, out);
    expect(s.parcels.map((p) => [p.status, p.orders.map((o) => o.orderId)])).toEqual([['sealed', ['o-1']], ['open', ['o-2']]]);
    expect(s.parcels[0].parcelId).not.toBe(s.parcels[1].parcelId);
  });

  it('merge disabled for the shop: the order travels alone, decided with the rule version', () => {
    spec.given([]).when(offer('o-1', L1, 0, mergeRuleFor(RULES, 'jd-shop'))).then([{ type: 'OrderNotMerged', data: { orderId: 'o-1', reason: 'merge_disabled', ruleVersion: 'm-1', at: at(0) } }]);
  });

  it('a repeated offer is a no-op; an order of another group is refused', () => {
    spec.given(events([offer('o-1')])).when(offer('o-1', L1, 5)).then([]);
    spec.given(events([offer('o-1')])).when({ ...offer('o-9'), groupKey: 'other' }).thenThrows({ code: 'MERGE_WRONG_GROUP' });
  });

  it('a refund on one order takes only its lines out; the last one out empties the parcel', () => {
    const given = events([offer('o-1'), offer('o-2', L2, 10)]);
    const parcelId = (given[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>).data.parcelId;
    const after = spec.given(given).when({ type: 'RemoveMergedOrder', orderId: 'o-1', reason: 'refunded', at: at(12) }).then([
      { type: 'OrderLeftMergeParcel', data: { parcelId, orderId: 'o-1', lines: L1, reason: 'refunded', at: at(12) } },
    ]);
    expect(parcelLines(after.parcels[0])).toEqual([{ ...L2[0], orderId: 'o-2' }]);
    spec.given([...given, { type: 'OrderLeftMergeParcel', data: { parcelId, orderId: 'o-1', lines: L1, reason: 'refunded', at: at(12) } }])
      .when({ type: 'RemoveMergedOrder', orderId: 'o-2', reason: 'cancelled', at: at(13) })
      .then([
        { type: 'OrderLeftMergeParcel', data: { parcelId, orderId: 'o-2', lines: L2, reason: 'cancelled', at: at(13) } },
        { type: 'MergeParcelEmptied', data: { parcelId, at: at(13) } },
      ]);
  });

  it('packing seals the parcel; after packing a refund is refused here (the intercept handles it); an order never merged is refused', () => {
    const given = events([offer('o-1'), offer('o-2', L2, 10)]);
    const parcelId = (given[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>).data.parcelId;
    const packed = events([offer('o-1'), offer('o-2', L2, 10), { type: 'MarkMergeParcelPacked', parcelId, at: at(15) }]);
    expect(packed.slice(given.length).map((e) => e.type)).toEqual(['MergeParcelSealed', 'MergeParcelPacked']);
    spec.given(packed).when(offer('o-3', L1, 16)).thenEvents((es) => expect(es.map((e) => e.type)).toEqual(['MergeParcelOpened', 'OrderJoinedMergeParcel']));
    spec.given(packed).when({ type: 'RemoveMergedOrder', orderId: 'o-1', reason: 'refunded', at: at(16) }).thenThrows({ code: 'MERGE_PARCEL_PACKED', details: { parcelId } });
    spec.given(packed).when({ type: 'RemoveMergedOrder', orderId: 'o-x', reason: 'refunded', at: at(16) }).thenThrows({ code: 'MERGE_ORDER_NOT_IN_PARCEL' });
  });
});

describe('merged parcel: group keys and scans', () => {
  it('the group is shop + buyer key + address key + warehouse: another warehouse is another group', () => {
    const k = { shopId: 'tmall-flagship', buyerKey: 'b1', addressKey: 'a1', warehouseId: 'WH-HZ' };
    expect(mergeGroupKeyOf(k)).toBe('tmall-flagship|b1|a1|WH-HZ');
    expect(mergeGroupKeyOf({ ...k, warehouseId: 'WH-SH' })).not.toBe(mergeGroupKeyOf(k));
  });
  it('parcel ids of two groups of one shop differ (64-bit hash of the group)', () => {
    const a = events([{ ...offer('o-1'), groupKey: 'tmall-flagship|b1|a1|WH-HZ' }])[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>;
    const b = events([{ ...offer('o-1'), groupKey: 'tmall-flagship|b2|a1|WH-HZ' }])[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>;
    expect(a.data.parcelId).toMatch(/^MRG-tmall-flagship-1-[0-9a-z]{14}$/);
    expect(a.data.parcelId).not.toBe(b.data.parcelId);
  });
  const members: MergeMember[] = [
    { orderId: 'o-1', shipmentId: 'SHP-o-1-1', lines: [{ sku: 'TEA-LJ', quantity: 2 }], scanned: { 'TEA-LJ': 1 } },
    { orderId: 'o-2', shipmentId: 'SHP-o-2-1', lines: [{ sku: 'TEA-LJ', quantity: 1 }, { sku: 'CUP-01', quantity: 4 }], scanned: {} },
  ];
  it('a scan goes to the orders that still need the SKU, in joining order', () => {
    expect(allocateScan('MRG-1', members, 'TEA-LJ', 2)).toEqual([
      { orderId: 'o-1', shipmentId: 'SHP-o-1-1', quantity: 1 },
      { orderId: 'o-2', shipmentId: 'SHP-o-2-1', quantity: 1 },
    ]);
    expect(allocateScan('MRG-1', members, 'CUP-01', 4)).toEqual([{ orderId: 'o-2', shipmentId: 'SHP-o-2-1', quantity: 4 }]);
  });
  it('a wrong SKU or too many units is refused naming the merged parcel, the expected SKUs and the counts', () => {
    expect(() => allocateScan('MRG-1', members, 'POT-01', 1)).toThrow(expect.objectContaining({ code: 'SCAN_WRONG_SKU', details: { shipmentId: 'MRG-1', sku: 'POT-01', expected: ['TEA-LJ', 'CUP-01'] } }));
    expect(() => allocateScan('MRG-1', members, 'TEA-LJ', 3)).toThrow(expect.objectContaining({ code: 'SCAN_QUANTITY_EXCEEDED', details: { shipmentId: 'MRG-1', sku: 'TEA-LJ', required: 3, scanned: 1, quantity: 3 } }));
    expect(() => allocateScan('MRG-1', members, 'TEA-LJ', 0)).toThrow(expect.objectContaining({ code: 'SCAN_INVALID_QUANTITY' }));
  });
});

describe('merged parcel: the box carrier', () => {
  it('packing records the carrier chosen for the box (rule id, version, weight) on MergeParcelPacked and the parcel', () => {
    const given = events([offer('o-1'), offer('o-2', L2, 5)]);
    const parcelId = (given[0] as Extract<MergeEvent, { type: 'MergeParcelOpened' }>).data.parcelId;
    const choice = { carrier: 'ZTO', ruleId: 'heavy-cheapest', ruleSetVersion: '2026.12.1', weightGrams: 12_000 };
    const s = spec
      .given(given)
      .when({ type: 'MarkMergeParcelPacked', parcelId, at: at(9), carrierChoice: choice })
      .then([
        { type: 'MergeParcelSealed', data: { parcelId, reason: 'packing', orderIds: ['o-1', 'o-2'], at: at(9) } },
        { type: 'MergeParcelPacked', data: { parcelId, orderIds: ['o-1', 'o-2'], at: at(9), carrierChoice: choice } },
      ]);
    expect(s.parcels[0]).toMatchObject({ status: 'packed', carrierChoice: choice });
  });
});

describe('a merged box is not picked while orders may still join (window or release)', () => {
  const opened = events([offer('o-1'), offer('o-2', L2, 5)]);
  const box = fold(mergeParcelDecider, opened).parcels[0];
  it('an open box inside its window is not pickable; at the window end it is', () => {
    expect(box.windowEndsAt).toBe(at(30));
    expect(mergeParcelPickable(box, at(29))).toBe(false);
    expect(mergeParcelPickable(box, at(30))).toBe(true);
    expect(() => assertMergeParcelPickable(box, at(10))).toThrow(expect.objectContaining({ code: 'MERGE_WINDOW_OPEN', kind: 'conflict', details: { parcelId: box.parcelId, windowEndsAt: at(30) } }));
  });
  it('a person releases it early: sealed with reason released (who and why kept), pickable at once, no order joins it after', () => {
    const release = { type: 'ReleaseMergeParcel' as const, parcelId: box.parcelId, by: { id: 'u-wh-1', role: 'warehouse' }, reason: '买家催发货', at: at(10) };
    spec.given(opened).when(release).then([
      { type: 'MergeParcelSealed', data: { parcelId: box.parcelId, reason: 'released', orderIds: ['o-1', 'o-2'], at: at(10), by: { id: 'u-wh-1', role: 'warehouse' }, note: '买家催发货' } },
    ]);
    const released = events([offer('o-1'), offer('o-2', L2, 5), release]);
    const state = fold(mergeParcelDecider, released);
    expect(mergeParcelPickable(state.parcels[0], at(10))).toBe(true);
    // Released twice: nothing more; a third order in the window opens a new box.
    expect(mergeParcelDecider.decide(release, state)).toEqual([]);
    const next = mergeParcelDecider.decide(offer('o-3', L1, 12), state);
    expect(next.map((e) => e.type)).toEqual(['MergeParcelOpened', 'OrderJoinedMergeParcel']);
  });
});
