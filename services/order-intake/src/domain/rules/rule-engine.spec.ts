import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fold } from '@flowline/domain';
import { aCustomer, lines } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { ev, eventsTo, ORDER, T } from '../../../test/support/order.fixtures';
import { orderDecider } from '../order.decider';
import type { OrderEvent } from '../order.events';
import { computeTotals, type CanonicalOrder } from '../order.model';
import type { ExistingOrder } from '../order.state';
import { auditOrder, evaluateRules, holdOnArrival, orderFacts } from './rule-engine';
import { parseRuleSet } from './rule-set.parser';

const RULES = parseRuleSet(readFileSync(resolve(__dirname, '../../../rules/default.rules.yaml'), 'utf8'));

/** The fixture order, changed by `patch`, brought to a stage by `events`. */
function orderWith(patch: Partial<CanonicalOrder>, events: (placed: OrderEvent) => OrderEvent[]): ExistingOrder {
  const order = { ...ORDER, ...patch };
  const withTotals = { ...order, totals: computeTotals(order) };
  const placed: OrderEvent = { type: 'OrderPlaced', data: { orderId: ORDER.orderId, order: withTotals, placedAt: T, receivedAt: T } };
  const s = fold(orderDecider, events(placed));
  if (s.status === 'none') throw new Error('no order');
  return s;
}

const reservedPath = (p: OrderEvent) => [p, ev.paid(), ev.reserved()];

describe('order facts', () => {
  it('reads channel, amounts, SKUs and categories, customer tags, payment and stock status from the order', () => {
    const s = orderWith({ lines: lines({ sku: 'A', category: 'tea' }, { sku: 'B', category: 'custom' }), customer: aCustomer({ tags: ['vip'] }) }, (p) => [p]);
    const f = orderFacts(s);
    expect(f).toMatchObject({ channel: 'tmall', 'lines.skus': ['A', 'B'], 'lines.categories': ['tea', 'custom'], 'customer.tags': ['vip'], 'payment.status': 'unpaid', 'stock.status': 'none', 'stock.allLinesReserved': false });
    expect(f['totals.grandTotal']).toBe(s.order.totals.grandTotal);
  });

  it('says partial when not every line is reserved, and shortage after a shortage', () => {
    expect(orderFacts(fold(orderDecider, [...eventsTo('paid'), ev.reserved(false)]) as ExistingOrder)['stock.status']).toBe('partial');
    expect(orderFacts(fold(orderDecider, [...eventsTo('paid'), ev.shortage()]) as ExistingOrder)['stock.status']).toBe('shortage');
  });
});

describe('default rule: only paid AND every line reserved -> ready_to_ship', () => {
  it('releases a paid, fully reserved order', () => {
    const outcome = auditOrder(RULES, fold(orderDecider, eventsTo('stock_reserved')));
    expect(outcome).toEqual({
      kind: 'release',
      priority: 'normal',
      freeShipping: false,
      requiresQc: false,
      decisions: [{ ruleId: 'ready-when-paid-and-reserved', ruleSetVersion: '2025.12.1', ruleSetHash: RULES.hash, decision: 'ready_to_ship' }],
    });
  });

  it('does not release an order with a line only partly reserved (blocked: a person must look)', () => {
    expect(auditOrder(RULES, fold(orderDecider, [...eventsTo('paid'), ev.reserved(false)])).kind).toBe('blocked');
  });

  it('does not fire for an unpaid order', () => {
    expect(evaluateRules(RULES, orderFacts(fold(orderDecider, eventsTo('placed')) as ExistingOrder))).toEqual([]);
  });
});

describe('default rule: grand total above the threshold or a custom line -> approval chain custom-order', () => {
  const expectApproval = (s: ExistingOrder) =>
    expect(auditOrder(RULES, s)).toMatchObject({ kind: 'approval', chain: 'custom-order', decision: { ruleId: 'approval-large-or-custom', ruleSetVersion: '2025.12.1', decision: 'require_approval' } });

  it('fires for a grand total above approvalThresholdFen', () => {
    expectApproval(orderWith({ lines: lines({ quantity: 1, unitPrice: 2_000_001 }), shippingFee: 0, orderDiscount: 0 }, reservedPath));
  });

  it('does not fire at exactly the threshold', () => {
    expect(auditOrder(RULES, orderWith({ lines: lines({ quantity: 1, unitPrice: 2_000_000 }), shippingFee: 0, orderDiscount: 0 }, reservedPath)).kind).toBe('release');
  });

  it('fires for any line of category custom, whatever the amount', () => {
    expectApproval(orderWith({ lines: lines({ unitPrice: 100 }, { sku: 'ENGRAVE-1', category: 'custom', unitPrice: 100 }) }, (p) => [p, ev.paid(), ev.reserved()]));
  });

  it('the threshold is configuration: a lower override makes an ordinary order need approval', () => {
    const strict = parseRuleSet(readFileSync(resolve(__dirname, '../../../rules/default.rules.yaml'), 'utf8'), { paramOverrides: { approvalThresholdFen: 100 } });
    expect(auditOrder(strict, fold(orderDecider, eventsTo('stock_reserved'))).kind).toBe('approval');
  });

  it('once the chain granted, the same rule no longer stops the order: it is released', () => {
    const s = orderWith({ lines: lines({ category: 'custom' }) }, (p) => [p, ev.paid(), ev.reserved(), ev.approvalRequired(), ev.approved()]);
    expect(auditOrder(RULES, s).kind).toBe('release');
  });
});

describe('default rule: customer tagged blocked -> on hold', () => {
  it('holds on arrival, naming the rule', () => {
    const s = orderWith({ customer: aCustomer({ tags: ['blocked'] }) }, (p) => [p]);
    expect(holdOnArrival(RULES, s)).toMatchObject({ kind: 'hold', reason: 'customer is tagged blocked', decision: { ruleId: 'hold-blocked-customer', ruleSetVersion: '2025.12.1' } });
  });

  it('the hold beats approval and release at audit time', () => {
    const s = orderWith({ customer: aCustomer({ tags: ['blocked'] }), lines: lines({ category: 'custom' }) }, (p) => [p, ev.paid(), ev.reserved()]);
    expect(auditOrder(RULES, s).kind).toBe('hold');
  });

  it('after a person released that rule hold, the rule does not hold the order again', () => {
    const s = orderWith({ customer: aCustomer({ tags: ['blocked'] }) }, (p) => [p, ev.held('hold-blocked-customer'), ev.holdReleased(), ev.paid(), ev.reserved()]);
    expect(holdOnArrival(RULES, s)).toBeNull();
    expect(auditOrder(RULES, s).kind).toBe('release');
  });

  it('an untagged customer is not held', () => {
    expect(holdOnArrival(RULES, fold(orderDecider, eventsTo('placed')))).toBeNull();
  });
});

describe('other decisions: QC, free shipping, priority', () => {
  const rich = parseRuleSet(`
ruleSetVersion: "rich-1"
rules:
  - id: vip-first
    when: { fact: customer.tags, op: containsAny, value: [vip, svip] }
    then: [{ decision: priority, level: high }, { decision: free_shipping }]
  - id: qc-for-jd-porcelain
    when: { all: [{ fact: channel, op: in, value: [jd, tmall] }, { not: { fact: lines.categories, op: notContains, value: porcelain } }] }
    then: [{ decision: require_qc }]
  - id: disabled
    enabled: false
    when: { fact: channel, op: equals, value: tmall }
    then: [{ decision: hold_for_review, reason: never }]
  - id: ready
    when: { fact: stock.allLinesReserved, op: equals, value: true }
    then: [{ decision: ready_to_ship }]
`);

  it('shape the release and each names its rule', () => {
    const s = orderWith({ customer: aCustomer({ tags: ['svip'] }), lines: lines({ category: 'porcelain' }) }, (p) => [p, ev.paid(), ev.reserved()]);
    const outcome = auditOrder(rich, s);
    expect(outcome).toMatchObject({ kind: 'release', priority: 'high', freeShipping: true, requiresQc: true });
    expect(outcome.kind === 'release' && outcome.decisions.map((d) => `${d.ruleId}:${d.decision}@${d.ruleSetVersion}`)).toEqual([
      'vip-first:priority@rich-1',
      'vip-first:free_shipping@rich-1',
      'qc-for-jd-porcelain:require_qc@rich-1',
      'ready:ready_to_ship@rich-1',
    ]);
  });
});
