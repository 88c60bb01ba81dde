import { assertNever } from '@flowline/domain';
import type { RuleDecisionRecord } from '../order.commands';
import { isExisting, type ExistingOrder, type OrderState } from '../order.state';
import type { Condition, Decision, OrderFacts, Predicate, RuleSet, RuleValue, Scalar } from './rule-set';

/** The facts rules read, taken from the order's state. */
export function orderFacts(s: ExistingOrder): OrderFacts {
  const o = s.order;
  const payment = !s.payment ? 'unpaid' : s.refund.refundedTotal >= s.payment.amount ? 'refunded' : 'paid';
  const stock = s.reservation ? (s.reservation.allLinesReserved ? 'reserved' : 'partial') : s.shortage ? 'shortage' : 'none';
  return {
    channel: o.channel,
    shopId: o.shopId,
    stage: s.status,
    currency: o.currency,
    'totals.itemsTotal': o.totals.itemsTotal,
    'totals.shippingFee': o.totals.shippingFee,
    'totals.orderDiscount': o.totals.orderDiscount,
    'totals.grandTotal': o.totals.grandTotal,
    'lines.count': o.lines.length,
    'lines.totalQuantity': o.lines.reduce((n, l) => n + l.quantity, 0),
    'lines.skus': [...new Set(o.lines.map((l) => l.sku))],
    'lines.categories': [...new Set(o.lines.flatMap((l) => (l.category ? [l.category] : [])))],
    'customer.tags': [...o.customer.tags],
    'order.tags': [...o.tags],
    'order.hasAttachments': o.attachments.length > 0,
    'payment.status': payment,
    'payment.method': o.paymentMethod ?? 'online',
    'stock.status': stock,
    'stock.allLinesReserved': s.reservation?.allLinesReserved ?? false,
    'approval.grantedChains': s.approval?.status === 'granted' ? [s.approval.chain] : [],
  };
}

function resolve(v: RuleValue, params: Record<string, Scalar>): Scalar | Scalar[] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return params[v.param];
  return v;
}

function holds(p: Predicate, facts: OrderFacts, params: Record<string, Scalar>): boolean {
  const fact = facts[p.fact] as Scalar | string[];
  const value = resolve(p.value, params);
  switch (p.op) {
    case 'equals':
      return fact === value;
    case 'notEquals':
      return fact !== value;
    case 'in':
      return Array.isArray(value) && value.includes(fact as Scalar);
    case 'notIn':
      return Array.isArray(value) && !value.includes(fact as Scalar);
    case 'greaterThan':
      return (fact as number) > (value as number);
    case 'greaterThanOrEqual':
      return (fact as number) >= (value as number);
    case 'lessThan':
      return (fact as number) < (value as number);
    case 'lessThanOrEqual':
      return (fact as number) <= (value as number);
    case 'contains':
      return Array.isArray(fact) && fact.includes(value as string);
    case 'notContains':
      return Array.isArray(fact) && !fact.includes(value as string);
    case 'containsAny':
      return Array.isArray(fact) && Array.isArray(value) && value.some((v) => fact.includes(v as string));
    default:
      return assertNever(p.op, 'operator');
  }
}

export function conditionHolds(c: Condition, facts: OrderFacts, params: Record<string, Scalar>): boolean {
  if ('all' in c) return c.all.every((x) => conditionHolds(x, facts, params));
  if ('any' in c) return c.any.some((x) => conditionHolds(x, facts, params));
  if ('not' in c) return !conditionHolds(c.not, facts, params);
  return holds(c, facts, params);
}

function decisionParams(d: Decision): Record<string, unknown> | undefined {
  switch (d.decision) {
    case 'require_approval':
      return { chain: d.chain };
    case 'hold_for_review':
      return { reason: d.reason };
    case 'priority':
      return { level: d.level };
    case 'require_qc':
    case 'free_shipping':
    case 'ready_to_ship':
      return undefined;
    default:
      return assertNever(d, 'decision');
  }
}

/** Every decision of every enabled rule whose condition holds, in file order, naming the rule and version. */
export function evaluateRules(ruleSet: RuleSet, facts: OrderFacts): RuleDecisionRecord[] {
  const out: RuleDecisionRecord[] = [];
  for (const rule of ruleSet.rules) {
    if (rule.enabled === false || !conditionHolds(rule.when, facts, ruleSet.params)) continue;
    for (const d of rule.then) {
      const params = decisionParams(d);
      out.push({ ruleId: rule.id, ruleSetVersion: ruleSet.ruleSetVersion, ruleSetHash: ruleSet.hash, decision: d.decision, ...(params ? { params } : {}) });
    }
  }
  return out;
}

/**
 * 审单 (order audit): what the fired decisions mean for the order, in priority order:
 * a hold (unless a person already released that rule's hold) beats an approval (unless that chain
 * already granted), which beats a release; with no ready_to_ship decision the order is blocked.
 */
export type AuditOutcome =
  | { kind: 'hold'; reason: string; decision: RuleDecisionRecord }
  | { kind: 'approval'; chain: string; decision: RuleDecisionRecord; decisions: RuleDecisionRecord[] }
  | { kind: 'release'; priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean; decisions: RuleDecisionRecord[] }
  | { kind: 'blocked'; decisions: RuleDecisionRecord[] };

export function auditOrder(ruleSet: RuleSet, state: OrderState): AuditOutcome {
  if (!isExisting(state)) return { kind: 'blocked', decisions: [] };
  const fired = evaluateRules(ruleSet, orderFacts(state));
  const granted = state.approval?.status === 'granted' ? [state.approval.chain] : [];

  const hold = fired.find((d) => d.decision === 'hold_for_review' && !state.overriddenHoldRules.includes(d.ruleId));
  if (hold) return { kind: 'hold', reason: String(hold.params?.reason ?? 'held for review'), decision: hold };

  const approval = fired.find((d) => d.decision === 'require_approval' && !granted.includes(String(d.params?.chain)));
  if (approval) return { kind: 'approval', chain: String(approval.params?.chain), decision: approval, decisions: [approval] };

  const shaping = fired.filter((d) => d.decision === 'require_qc' || d.decision === 'free_shipping' || d.decision === 'priority' || d.decision === 'ready_to_ship');
  if (!fired.some((d) => d.decision === 'ready_to_ship')) return { kind: 'blocked', decisions: fired };
  return {
    kind: 'release',
    priority: shaping.some((d) => d.decision === 'priority' && d.params?.level === 'high') ? 'high' : 'normal',
    freeShipping: shaping.some((d) => d.decision === 'free_shipping'),
    requiresQc: shaping.some((d) => d.decision === 'require_qc'),
    decisions: shaping,
  };
}

/** Hold decisions only: what the rules say right when an order arrives (before payment and stock). */
export function holdOnArrival(ruleSet: RuleSet, state: OrderState): Extract<AuditOutcome, { kind: 'hold' }> | null {
  if (!isExisting(state)) return null;
  const hold = evaluateRules(ruleSet, orderFacts(state)).find((d) => d.decision === 'hold_for_review' && !state.overriddenHoldRules.includes(d.ruleId));
  return hold ? { kind: 'hold', reason: String(hold.params?.reason ?? 'held for review'), decision: hold } : null;
}
