import type { RuleDecisionRecord } from '../order.commands';
import { isExisting, type OrderState } from '../order.state';
import { auditOrder, evaluateRules, orderFacts, type AuditOutcome } from './rule-engine';
import type { OrderFacts, RuleSet } from './rule-set';

/** What a rule set WOULD decide for an order in its current state: nothing is written. */
export interface RuleDryRun {
  ruleSetVersion: string;
  ruleSetHash: string;
  /** The order's stage when it was read. */
  stage: string;
  /** The facts the rules read. */
  facts: OrderFacts;
  /** Every decision of every rule that fires, in file order. */
  fired: RuleDecisionRecord[];
  /** What the audit (审单) makes of them: hold, approval, release or blocked (nothing lets it ship yet). */
  outcome: DryRunOutcome;
}

export type DryRunOutcome =
  | { kind: 'hold'; ruleId: string; reason: string }
  | { kind: 'approval'; ruleId: string; chain: string }
  | { kind: 'release'; priority: 'normal' | 'high'; freeShipping: boolean; requiresQc: boolean }
  | { kind: 'blocked' };

function outcomeOf(a: AuditOutcome): DryRunOutcome {
  switch (a.kind) {
    case 'hold':
      return { kind: 'hold', ruleId: a.decision.ruleId, reason: a.reason };
    case 'approval':
      return { kind: 'approval', ruleId: a.decision.ruleId, chain: a.chain };
    case 'release':
      return { kind: 'release', priority: a.priority, freeShipping: a.freeShipping, requiresQc: a.requiresQc };
    case 'blocked':
      return { kind: 'blocked' };
  }
}

/** Runs the real rule engine on the order's state; null when the order does not exist. */
export function dryRunRules(ruleSet: RuleSet, state: OrderState): RuleDryRun | null {
  if (!isExisting(state)) return null;
  const facts = orderFacts(state);
  return {
    ruleSetVersion: ruleSet.ruleSetVersion,
    ruleSetHash: ruleSet.hash,
    stage: state.status,
    facts,
    fired: evaluateRules(ruleSet, facts),
    outcome: outcomeOf(auditOrder(ruleSet, state)),
  };
}
