import { describe, expect, it } from 'vitest';
import { loadCarrierRules, parseCarrierRules } from '../infra/carrier-rules.loader';
import { chooseCarrier, costOf, waybillCarrierOf } from './carrier-rules';
import { lineWeightGrams, parcelWeightGrams, parseSkuWeights, withWeights } from './parcel-weights';
import { loadSkuWeights } from '../infra/fulfillment-rules.loader';

const rules = loadCarrierRules();

describe('carrier choice (rules/carrier-rules.yaml)', () => {
  it('honours the platform-designated carrier first', () => {
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 500_000, designatedCarrier: 'YTO' })).toEqual({ carrier: 'YTO', ruleId: 'platform-designated', ruleSetVersion: '2026.12.2', designated: true });
  });
  it('sends high-value orders with SF', () => {
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 200_000 })).toMatchObject({ carrier: 'SF', ruleId: 'high-value-sf' });
  });
  it('picks the cheapest carrier of the cost table for a remote province', () => {
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 10_000 })).toMatchObject({ carrier: 'SIM', ruleId: 'remote-provinces-cheapest' });
    expect(chooseCarrier(rules, { province: '内蒙古自治区', grandTotal: 10_000 })).toMatchObject({ carrier: 'ZTO', ruleId: 'remote-provinces-cheapest' });
  });
  it('falls back to the default with rule id default', () => {
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 10_000 })).toEqual({ carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.12.2' });
  });
  it('refuses a rule file with an unknown condition or a cheapestOf carrier without cost, naming the path', () => {
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\nrules:\n  - id: a\n    when: { weight: 3 }\n    carrier: SF\n', 'x.yaml')).toThrow('x.yaml: rules[0].when.weight is not a known condition');
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\nrules:\n  - id: a\n    cheapestOf: [SF]\n', 'x.yaml')).toThrow('x.yaml: rules[0].cheapestOf names SF, which has no cost in costs');
  });
  it('a JD order is forced onto JD logistics only when it is JD-delivered (京东配送 / 京配: designatedCarrier JD); a seller-shipped one (商家自配送, none named) is chosen by the rules', () => {
    // 京配: the order names JD (channel-gateway maps 配送方式 京东配送 -> JD), honoured first and recorded as designated.
    expect(chooseCarrier(rules, { channel: 'jd', designatedCarrier: 'JD', province: '浙江省', grandTotal: 500_000 })).toEqual({ carrier: 'JD', ruleId: 'platform-designated', ruleSetVersion: '2026.12.2', designated: true });
    // 商家自配送: no designation, the seller's rules choose (high value -> SF; else the default), never JD.
    expect(chooseCarrier(rules, { channel: 'jd', province: '浙江省', grandTotal: 500_000 })).toEqual({ carrier: 'SF', ruleId: 'high-value-sf', ruleSetVersion: '2026.12.2' });
    expect(chooseCarrier(rules, { channel: 'jd', province: '浙江省', grandTotal: 100 })).toEqual({ carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.12.2' });
    // Another designation of a JD order (配送方式 顺丰速运) is the order's own and wins as well.
    expect(chooseCarrier(rules, { channel: 'jd', designatedCarrier: 'SF', grandTotal: 100 })).toMatchObject({ carrier: 'SF', ruleId: 'platform-designated', designated: true });
  });
  it('the parcel weight chooses: 10 kg and more -> the cheapest by weight (first kilogram + per started kilogram); the weight is recorded', () => {
    // 12 kg to 浙江省: ZTO 800 + 11 x 300 = 4100, SF 2300 + 11 x 1200, SIM 1000 + 11 x 500 = 6500.
    expect(costOf(rules, 'ZTO', '浙江省', 12_000)).toBe(4100);
    expect(costOf(rules, 'SIM', '浙江省', 12_000)).toBe(6500);
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 10_000, weightGrams: 12_000 })).toEqual({ carrier: 'ZTO', ruleId: 'heavy-cheapest', ruleSetVersion: '2026.12.2', weightGrams: 12_000 });
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 10_000, weightGrams: 9_999 })).toMatchObject({ carrier: 'SIM', ruleId: 'default', weightGrams: 9_999 });
    // Remote province, heavy: the weight changes which carrier is cheapest (light: SIM 1900 < ZTO 2000; 3 kg: ZTO 2600 < SIM 2900).
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 10_000, weightGrams: 800 })).toMatchObject({ carrier: 'SIM', ruleId: 'remote-provinces-cheapest' });
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 10_000, weightGrams: 3_000 })).toMatchObject({ carrier: 'ZTO', ruleId: 'remote-provinces-cheapest' });
  });
  it('refuses a bad weight condition, and a channel-wide designation (designatedByChannel), naming the path', () => {
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\nrules:\n  - id: a\n    when: { minWeightGrams: -1 }\n    carrier: SF\n', 'x.yaml')).toThrow('x.yaml: rules[0].when.minWeightGrams must be grams');
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\ndesignatedByChannel: { jd: 3 }\nrules: []\n', 'x.yaml')).toThrow('x.yaml: designatedByChannel is no longer supported');
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\ndesignatedByChannel: { jd: JD }\nrules: []\n', 'x.yaml')).toThrow('x.yaml: designatedByChannel is no longer supported');
  });
});

describe('the carrier of the waybill at packing (waybillCarrierOf)', () => {
  const here = { configured: ['SIM', 'SF'], defaultCarrier: 'SIM', waybillGiven: false };
  const designated = (carrier: string) => ({ carrier, ruleId: 'platform-designated', ruleSetVersion: '2026.12.2', designated: true });
  it('a designated carrier with a connector here is used, whatever the warehouse left open', () => {
    expect(waybillCarrierOf(designated('SF'), here)).toBe('SF');
    expect(waybillCarrierOf(designated('SF'), { ...here, requested: 'SF' })).toBe('SF');
  });
  it('the warehouse cannot pack a designated order with another carrier (CARRIER_DESIGNATED, naming the field)', () => {
    expect(() => waybillCarrierOf(designated('SF'), { ...here, requested: 'SIM' })).toThrow(expect.objectContaining({ code: 'CARRIER_DESIGNATED', kind: 'invalid', details: { field: 'carrier', carrier: 'SIM', designated: 'SF' } }));
  });
  it('a designated carrier without a connector is refused instead of printing the default carrier, unless the warehouse brings its waybill number', () => {
    expect(() => waybillCarrierOf(designated('JD'), here)).toThrow(expect.objectContaining({ code: 'CARRIER_NOT_CONFIGURED', details: { field: 'carrier', carrier: 'JD', designated: true } }));
    expect(waybillCarrierOf(designated('JD'), { ...here, waybillGiven: true })).toBe('JD');
  });
  it('without a designation: the warehouse\'s carrier, else the rules\' choice when configured, else the default', () => {
    const rules = { carrier: 'SF', ruleId: 'high-value-sf', ruleSetVersion: '2026.12.2' };
    expect(waybillCarrierOf(rules, { ...here, requested: 'SIM' })).toBe('SIM');
    expect(waybillCarrierOf(rules, here)).toBe('SF');
    expect(waybillCarrierOf({ ...rules, carrier: 'ZTO' }, here)).toBe('SIM');
    expect(waybillCarrierOf(null, here)).toBe('SIM');
  });
});

describe('parcel weights (rules/sku-weights.yaml)', () => {
  const weights = loadSkuWeights();
  it('a line weighs what the order says, else its SKU unit weight x quantity, else the default unit weight x quantity', () => {
    expect(lineWeightGrams({ sku: 'TEA-LJ-250', quantity: 2, weightGrams: 777 }, weights)).toBe(777);
    expect(lineWeightGrams({ sku: 'TEA-LJ-250', quantity: 2 }, weights)).toBe(600);
    expect(lineWeightGrams({ sku: 'UNKNOWN-SKU', quantity: 3 }, weights)).toBe(1500);
    expect(withWeights([{ lineId: 'L1', sku: 'CUP-CLAY-01', quantity: 2 }], weights)).toEqual([{ lineId: 'L1', sku: 'CUP-CLAY-01', quantity: 2, weightGrams: 900 }]);
    expect(parcelWeightGrams([{ sku: 'TEA-LJ-250', quantity: 1 }, { sku: 'CUP-CLAY-01', quantity: 1, weightGrams: 500 }], weights)).toBe(800);
  });
  it('a faulty weights file names the path', () => {
    expect(() => parseSkuWeights({ version: '1', default: 0 }, 'w.yaml')).toThrow('w.yaml: default must be grams');
    expect(() => parseSkuWeights({ version: '1', default: 100, skus: { A: 1.5 } }, 'w.yaml')).toThrow('w.yaml: skus.A must be grams');
  });
});
