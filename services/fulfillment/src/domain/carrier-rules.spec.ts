import { describe, expect, it } from 'vitest';
import { loadCarrierRules, parseCarrierRules } from '../infra/carrier-rules.loader';
import { chooseCarrier } from './carrier-rules';

const rules = loadCarrierRules();

describe('carrier choice (rules/carrier-rules.yaml)', () => {
  it('honours the platform-designated carrier first', () => {
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 500_000, designatedCarrier: 'YTO' })).toEqual({ carrier: 'YTO', ruleId: 'platform-designated', ruleSetVersion: '2026.01.1' });
  });
  it('sends high-value orders with SF', () => {
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 200_000 })).toMatchObject({ carrier: 'SF', ruleId: 'high-value-sf' });
  });
  it('picks the cheapest carrier of the cost table for a remote province', () => {
    expect(chooseCarrier(rules, { province: '新疆维吾尔自治区', grandTotal: 10_000 })).toMatchObject({ carrier: 'SIM', ruleId: 'remote-provinces-cheapest' });
    expect(chooseCarrier(rules, { province: '内蒙古自治区', grandTotal: 10_000 })).toMatchObject({ carrier: 'ZTO', ruleId: 'remote-provinces-cheapest' });
  });
  it('falls back to the default with rule id default', () => {
    expect(chooseCarrier(rules, { province: '浙江省', grandTotal: 10_000 })).toEqual({ carrier: 'SIM', ruleId: 'default', ruleSetVersion: '2026.01.1' });
  });
  it('refuses a rule file with an unknown condition or a cheapestOf carrier without cost, naming the path', () => {
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\nrules:\n  - id: a\n    when: { weight: 3 }\n    carrier: SF\n', 'x.yaml')).toThrow('x.yaml: rules[0].when.weight is not a known condition');
    expect(() => parseCarrierRules('version: "1"\ndefault: SIM\nrules:\n  - id: a\n    cheapestOf: [SF]\n', 'x.yaml')).toThrow('x.yaml: rules[0].cheapestOf names SF, which has no cost in costs');
  });
});
