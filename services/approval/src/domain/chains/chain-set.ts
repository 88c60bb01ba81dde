/**
 * Approval chains as data: what a chain file says once parsed and validated. Pure types.
 * A chain is an ordered list of steps; each step is decided by a role, or by named approvers
 * with a quorum (any one of them, or all of them), has an SLA and a reminder time, may escalate
 * to another role or person, and may be skipped by a condition on the request's facts.
 */

export type Quorum = 'any' | 'all';
export type SkipOperator = 'lt' | 'lte' | 'gt' | 'gte' | 'eq' | 'ne';
/** Facts a skip condition may read (from the RequestApproval / change request). */
export const CHAIN_FACTS = ['grandTotal', 'priceDifference'] as const;
export type ChainFact = (typeof CHAIN_FACTS)[number];

export interface SkipCondition {
  fact: ChainFact;
  op: SkipOperator;
  value: number;
}

/** Who decides: a role (anyone holding it), or named people with a quorum. */
export interface ApproverSpec {
  role?: string;
  /** Named approvers (user ids); with `quorum: all` every one of them must approve. */
  approvers?: string[];
  quorum: Quorum;
}

export interface ChainStep extends ApproverSpec {
  id: string;
  /** Milliseconds from the step's start until it is overdue (then escalated). */
  slaMs: number;
  /** Milliseconds from the step's start until approvers are reminded. */
  remindAfterMs: number;
  /** Who the step goes to once overdue (role and/or person); absent: the same approvers are escalated to again. */
  escalateTo?: { role?: string; approver?: string };
  skipWhen?: SkipCondition;
}

export interface Chain {
  id: string;
  description?: string;
  steps: ChainStep[];
}

/** An out-of-office rule: steps that would go to `user` between `from` and `until` go to `delegateTo`. */
export interface OutOfOffice {
  user: string;
  delegateTo: string;
  from: string;
  until: string;
}

export interface ChainSet {
  version: string;
  /** sha256 of the file text: two files with the same version but different content are told apart. */
  hash: string;
  description?: string;
  chains: Record<string, Chain>;
  outOfOffice: OutOfOffice[];
}

export interface ChainProblem {
  path: string;
  reason: string;
}

export class ChainSetInvalid extends Error {
  constructor(
    readonly source: string,
    readonly problems: ChainProblem[],
  ) {
    super(`${source}: invalid approval chains: ${problems.map((p) => `${p.path || '/'} ${p.reason}`).join('; ')}`);
    this.name = 'ChainSetInvalid';
  }
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `8h` -> 28 800 000. Throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration (<n>s|m|h|d): ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** True when the condition holds for the facts (a fact that is absent never skips). */
export function skipHolds(cond: SkipCondition | undefined, facts: Partial<Record<ChainFact, number>>): boolean {
  if (!cond) return false;
  const v = facts[cond.fact];
  if (v === undefined) return false;
  switch (cond.op) {
    case 'lt':
      return v < cond.value;
    case 'lte':
      return v <= cond.value;
    case 'gt':
      return v > cond.value;
    case 'gte':
      return v >= cond.value;
    case 'eq':
      return v === cond.value;
    case 'ne':
      return v !== cond.value;
  }
}

/** The out-of-office delegate of `user` at `now`, following chains of delegation (at most 5 hops). */
export function outOfOfficeDelegate(rules: readonly OutOfOffice[], user: string, now: string): string | null {
  let current = user;
  let found: string | null = null;
  for (let hop = 0; hop < 5; hop++) {
    const rule = rules.find((r) => r.user === current && r.from <= now && now < r.until);
    if (!rule) break;
    found = rule.delegateTo;
    current = rule.delegateTo;
  }
  return found;
}
