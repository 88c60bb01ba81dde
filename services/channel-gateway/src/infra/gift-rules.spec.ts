import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyGiftRules, giftTag } from '../domain/gifts/gift-rules';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import { toSubmission } from '../domain/import/submission';
import { parseGiftRules } from './gift-rules.loader';

const EXAMPLE = resolve(__dirname, '../../gift-rules/example.yaml');
const rules = parseGiftRules(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);

const draft = (over: Partial<ChannelOrderDraft>): ChannelOrderDraft => ({
  channel: 'taobao', channelOrderId: '4012345678901234567', shopId: 'tb-1', platformStatus: '买家已付款', state: 'paid', afterSales: 'none',
  placedAt: '2025-11-11T00:00:00+08:00', paidAt: '2025-11-11T00:01:00+08:00', recipient: '张三', phone: '13812345678',
  address: { province: '浙江省', city: '杭州市', district: '西湖区', street: '文三路100号', detail: '' }, addressText: '浙江省 杭州市 西湖区 文三路100号',
  pii: { name: 'clear', phone: 'clear', address: 'clear' },
  lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '明前龙井 250g', quantity: 1, unitPrice: 12800 }],
  money: { goods: 12800, shippingFee: 0, paid: 12800, orderDiscount: 0, platformDiscount: 0, shopDiscount: 0, refund: 0 },
  rowNumbers: [2], rawRows: [],
  ...over,
});

describe('gift rules (赠品策略) as versioned YAML data', () => {
  it('the shipped example validates', () => {
    expect(rules.version).toBe(1);
    expect(rules.rules.map((r) => r.id)).toEqual(['longjing-cup', 'over-199-sample']);
  });

  it('refuses an invalid rule set naming each path', () => {
    const bad = `version: 0
rules:
  - id: Bad Id
    from: 2025-11-01
    until: 2025-10-01T00:00:00+08:00
    when: {}
    gift: { sku: X, title: x, quantity: 0 }
`;
    let message = '';
    try {
      parseGiftRules(bad, 'bad.yaml');
    } catch (e) {
      message = (e as Error).message;
    }
    for (const path of ['/version', '/rules/0/id', '/rules/0/from', '/rules/0/when', '/rules/0/gift/quantity']) expect(message).toContain(path);
    expect(() => parseGiftRules('version: 2\nrules:\n  - { id: a, from: 2025-11-02T00:00:00Z, until: 2025-11-01T00:00:00Z, when: { minAmount: "1" }, gift: { sku: G, title: g, quantity: 1 } }\n', 'dates.yaml')).toThrow(/\/rules\/0\/until must be after from/);
  });

  it('a SKU bought in the campaign on a listed channel adds a zero-price gift line, recorded with the rule-set version', () => {
    const { draft: d, applied } = applyGiftRules(draft({}), rules);
    expect(applied).toEqual([{ ruleId: 'longjing-cup', ruleSetVersion: 1, lineId: 'gift-longjing-cup' }]);
    expect(d.lines.at(-1)).toEqual({ lineId: 'gift-longjing-cup', sku: 'GIFT-CUP-01', title: '赠品 品茗杯', quantity: 1, unitPrice: 0 });
    expect(applied.map(giftTag)).toEqual(['gift:longjing-cup@v1']);
    // The money of the order is unchanged: the submission's lines total the same.
    const sub = toSubmission(d);
    expect(sub.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0)).toBe(12800);
  });

  it('the amount threshold is exact to the fen (199.00 yuan = 19900 fen), on goods before discounts', () => {
    const at = (fen: number) => applyGiftRules(draft({ channel: 'jd', lines: [{ lineId: 'L1', sku: 'TEA-X', title: 't', quantity: 1, unitPrice: fen }] }), rules).applied.map((a) => a.ruleId);
    expect(at(19899)).toEqual([]);
    expect(at(19900)).toEqual(['over-199-sample']);
  });

  it('outside the campaign [from, until), on another channel, or with only a gift of that SKU: no gift', () => {
    expect(applyGiftRules(draft({ placedAt: '2025-12-01T00:00:00+08:00' }), rules).applied).toEqual([]); // until is exclusive
    expect(applyGiftRules(draft({ placedAt: '2025-10-31T23:59:59+08:00' }), rules).applied).toEqual([]);
    expect(applyGiftRules(draft({ channel: 'jd' }), rules).applied).toEqual([]);
    expect(applyGiftRules(draft({ lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '赠', quantity: 1, unitPrice: 0 }] }), rules).applied).toEqual([]);
    expect(applyGiftRules(draft({}), null)).toEqual({ draft: draft({}), applied: [] });
  });

  it('deterministic: the same draft and rule set give the same lines (a resumed run places the same order)', () => {
    const big = draft({ lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', title: '明前龙井 250g', quantity: 2, unitPrice: 12800 }] });
    const a = applyGiftRules(big, rules);
    expect(a.applied.map((x) => x.ruleId)).toEqual(['longjing-cup', 'over-199-sample']);
    expect(applyGiftRules(big, rules)).toEqual(a);
    // Applying to an order that already has the gift lines adds nothing.
    expect(applyGiftRules(a.draft, rules).applied).toEqual([]);
  });
});
