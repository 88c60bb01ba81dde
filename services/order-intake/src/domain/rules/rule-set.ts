import type { RuleDecisionKind } from '@flowline/contracts';

/**
 * Flow rules are data: a rule file (YAML or JSON, services/order-intake/rules/*.rules.yaml) is
 * parsed and schema-checked into a RuleSet; evaluating it is a pure function of the order's facts.
 */

/** The facts a rule may read, with their types (the schema only admits these names). */
export const FACT_TYPES = {
  channel: 'string',
  shopId: 'string',
  stage: 'string',
  currency: 'string',
  'totals.itemsTotal': 'number',
  'totals.shippingFee': 'number',
  'totals.orderDiscount': 'number',
  'totals.grandTotal': 'number',
  'lines.count': 'number',
  'lines.totalQuantity': 'number',
  'lines.skus': 'list',
  'lines.categories': 'list',
  'customer.tags': 'list',
  'order.tags': 'list',
  'order.hasAttachments': 'boolean',
  /** unpaid | paid | refunded */
  'payment.status': 'string',
  /** online | cod (货到付款) */
  'payment.method': 'string',
  /** none | reserved | partial | shortage */
  'stock.status': 'string',
  'stock.allLinesReserved': 'boolean',
  /** Approval chains already granted for this order. */
  'approval.grantedChains': 'list',
} as const;
export type FactName = keyof typeof FACT_TYPES;
export type FactType = (typeof FACT_TYPES)[FactName];
export const FACT_NAMES = Object.keys(FACT_TYPES) as FactName[];

export type Scalar = string | number | boolean;
export type FactValue = Scalar | readonly string[];
export type OrderFacts = { [K in FactName]: (typeof FACT_TYPES)[K] extends 'list' ? string[] : (typeof FACT_TYPES)[K] extends 'number' ? number : (typeof FACT_TYPES)[K] extends 'boolean' ? boolean : string };

/** Operators and the fact types they apply to. */
export const OPERATORS = {
  equals: ['string', 'number', 'boolean'],
  notEquals: ['string', 'number', 'boolean'],
  in: ['string', 'number'],
  notIn: ['string', 'number'],
  greaterThan: ['number'],
  greaterThanOrEqual: ['number'],
  lessThan: ['number'],
  lessThanOrEqual: ['number'],
  contains: ['list'],
  notContains: ['list'],
  containsAny: ['list'],
} as const satisfies Record<string, readonly FactType[]>;
export type Operator = keyof typeof OPERATORS;
export const OPERATOR_NAMES = Object.keys(OPERATORS) as Operator[];

/** A value in a rule: a literal, a list of literals (for in / notIn / containsAny) or a named parameter. */
export type RuleValue = Scalar | Scalar[] | { param: string };

export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | Predicate;
export interface Predicate {
  fact: FactName;
  op: Operator;
  value: RuleValue;
}

export type Decision =
  | { decision: 'require_approval'; chain: string }
  | { decision: 'require_qc' }
  | { decision: 'free_shipping' }
  | { decision: 'hold_for_review'; reason: string }
  | { decision: 'priority'; level: 'high' | 'normal' }
  | { decision: 'ready_to_ship' };

export const DECISION_KINDS = ['require_approval', 'require_qc', 'free_shipping', 'hold_for_review', 'priority', 'ready_to_ship'] as const satisfies readonly RuleDecisionKind[];

export interface Rule {
  id: string;
  description?: string;
  /** Default true; a disabled rule never fires. */
  enabled?: boolean;
  when: Condition;
  then: Decision[];
}

export interface RuleSet {
  /** Declared by the file's author; bumped on each change. */
  ruleSetVersion: string;
  /** `sha256:` + 12 hex of the file content (and parameter overrides), computed at load. */
  hash: string;
  description?: string;
  params: Record<string, Scalar>;
  rules: Rule[];
}

/** One problem in a rule file: which rule (if any), where in it, and why. */
export interface RuleProblem {
  ruleId?: string;
  /** Path inside the file, e.g. `rules[1].when.any[0].op`. */
  path: string;
  reason: string;
}

/** A rule file that cannot be loaded. The message names each rule and reason. */
export class RuleSetInvalid extends Error {
  readonly code = 'RULE_SET_INVALID';
  constructor(
    readonly source: string,
    readonly problems: RuleProblem[],
  ) {
    super(
      `rule set ${source} is invalid: ` +
        problems.map((p) => `${p.ruleId ? `rule '${p.ruleId}' ` : ''}at ${p.path || '(root)'}: ${p.reason}`).join('; '),
    );
    this.name = 'RuleSetInvalid';
  }
}
