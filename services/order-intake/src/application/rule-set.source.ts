import type { RuleSet } from '../domain/rules/rule-set';

/** The rule set in force right now (infra reloads it when the file changes). */
export interface RuleSetSource {
  current(): RuleSet;
}

/** A fixed rule set (tests). */
export function fixedRuleSet(ruleSet: RuleSet): RuleSetSource {
  return { current: () => ruleSet };
}
