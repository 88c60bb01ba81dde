import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleSetInvalid } from './rule-set';
import { parseRuleSet } from './rule-set.parser';

const DEFAULT_FILE = resolve(__dirname, '../../../rules/default.rules.yaml');
const defaultText = readFileSync(DEFAULT_FILE, 'utf8');

/** A minimal valid file with one rule whose body is `ruleYaml` (indented under `rules:`). */
function withRule(ruleYaml: string, head = 'ruleSetVersion: "1.0.0"\nparams:\n  limit: 100\n'): string {
  return `${head}rules:\n${ruleYaml}`;
}

function problemsOf(text: string): RuleSetInvalid {
  try {
    parseRuleSet(text, { source: 'test.rules.yaml' });
  } catch (e) {
    if (e instanceof RuleSetInvalid) return e;
    throw e;
  }
  throw new Error('expected the rule file to be refused');
}

describe('loading a rule file', () => {
  it('loads the default rules with their version and a content hash', () => {
    const rs = parseRuleSet(defaultText, { source: DEFAULT_FILE });
    expect(rs.ruleSetVersion).toBe('2025.12.1');
    expect(rs.hash).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(rs.rules.map((r) => r.id)).toEqual(['hold-blocked-customer', 'approval-large-or-custom', 'ready-when-paid-and-reserved', 'ready-when-cod-and-reserved']);
    expect(rs.params.approvalThresholdFen).toBe(2000000);
  });

  it('the hash is a function of the content: same text same hash, any edit a new hash', () => {
    const a = parseRuleSet(defaultText);
    expect(parseRuleSet(defaultText).hash).toBe(a.hash);
    expect(parseRuleSet(defaultText.replace('reason: customer is tagged blocked', 'reason: blocked customer')).hash).not.toBe(a.hash);
  });

  it('parameter overrides (configuration) replace the file value and change the hash', () => {
    const a = parseRuleSet(defaultText);
    const b = parseRuleSet(defaultText, { paramOverrides: { approvalThresholdFen: 50000 } });
    expect(b.params.approvalThresholdFen).toBe(50000);
    expect(b.hash).not.toBe(a.hash);
    expect(b.ruleSetVersion).toBe(a.ruleSetVersion);
  });

  it('reads JSON as well as YAML', () => {
    const json = JSON.stringify({ ruleSetVersion: '1', rules: [{ id: 'r', when: { fact: 'channel', op: 'equals', value: 'jd' }, then: [{ decision: 'require_qc' }] }] });
    expect(parseRuleSet(json, { format: 'json' }).rules[0].id).toBe('r');
  });
});

describe('a bad rule file is refused naming the rule and the reason', () => {
  const cases: [string, string, { ruleId?: string; path: string; reason: RegExp }][] = [
    ['not YAML at all', 'rules: [unclosed', { path: '', reason: /not valid YAML/ }],
    ['no ruleSetVersion', 'rules:\n  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc }] }\n', { path: '', reason: /missing property "ruleSetVersion"/ }],
    ['no rules', 'ruleSetVersion: "1"\nrules: []\n', { path: 'rules', reason: /at least 1 item/ }],
    ['unknown top-level key', 'ruleSetVersion: "1"\nrulez: []\nrules:\n  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc }] }\n', { path: '', reason: /unknown property "rulez"/ }],
    ['a bad rule id', withRule('  - { id: "Big Rule", when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc }] }\n'), { ruleId: 'Big Rule', path: 'rules[0].id', reason: /must match/ }],
    ['an unknown property on a rule', withRule('  - { id: a, priority: 3, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0]', reason: /unknown property "priority"/ }],
    ['a rule without then', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd } }\n'), { ruleId: 'a', path: 'rules[0]', reason: /missing property "then"/ }],
    ['an unknown fact', withRule('  - { id: a, when: { fact: weather, op: equals, value: rain }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.fact', reason: /must be one of "channel"/ }],
    ['an unknown operator', withRule('  - { id: a, when: { fact: channel, op: like, value: jd }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.op', reason: /must be one of "equals"/ }],
    ['a predicate without a value', withRule('  - { id: a, when: { fact: channel, op: equals }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when', reason: /missing property "value"/ }],
    ['an empty all', withRule('  - { id: a, when: { all: [] }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.all', reason: /at least 1 item/ }],
    ['all mixed with a predicate', withRule('  - { id: a, when: { all: [{ fact: channel, op: equals, value: jd }], fact: channel }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when', reason: /unknown property "fact"/ }],
    ['an unknown decision', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: teleport }] }\n'), { ruleId: 'a', path: 'rules[0].then[0].decision', reason: /must be one of "require_approval"/ }],
    ['require_approval without a chain', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_approval }] }\n'), { ruleId: 'a', path: 'rules[0].then[0]', reason: /missing property "chain"/ }],
    ['hold_for_review without a reason', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: hold_for_review }] }\n'), { ruleId: 'a', path: 'rules[0].then[0]', reason: /missing property "reason"/ }],
    ['a priority level that does not exist', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: priority, level: urgent }] }\n'), { ruleId: 'a', path: 'rules[0].then[0].level', reason: /must be one of "high", "normal"/ }],
    ['a decision with a stray field', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc, chain: x }] }\n'), { ruleId: 'a', path: 'rules[0].then[0]', reason: /unknown property "chain"/ }],
    ['a duplicate rule id', withRule('  - { id: a, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_qc }] }\n  - { id: a, when: { fact: channel, op: equals, value: tmall }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[1].id', reason: /duplicate rule id/ }],
    ['an unknown parameter', withRule('  - { id: a, when: { fact: totals.grandTotal, op: greaterThan, value: { param: limitt } }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.value.param', reason: /unknown parameter "limitt"/ }],
    ['an operator that does not suit the fact', withRule('  - { id: a, when: { fact: totals.grandTotal, op: contains, value: 5 }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.op', reason: /contains does not apply to totals.grandTotal, which is a number/ }],
    ['a value of the wrong type', withRule('  - { id: a, when: { fact: totals.grandTotal, op: greaterThan, value: "lots" }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.value', reason: /must be a number/ }],
    ['a parameter of the wrong type', withRule('  - { id: a, when: { fact: totals.grandTotal, op: greaterThan, value: { param: name } }, then: [{ decision: require_qc }] }\n', 'ruleSetVersion: "1"\nparams:\n  name: big\n'), { ruleId: 'a', path: 'rules[0].when.value', reason: /must be a number .*parameter "name"/ }],
    ['in without a list', withRule('  - { id: a, when: { fact: channel, op: in, value: jd }, then: [{ decision: require_qc }] }\n'), { ruleId: 'a', path: 'rules[0].when.value', reason: /needs a non-empty list/ }],
    ['a nested problem deep in any/not', withRule('  - { id: deep, when: { any: [{ not: { fact: channel, op: equals, value: 3 } }] }, then: [{ decision: require_qc }] }\n'), { ruleId: 'deep', path: 'rules[0].when.any[0].not.value', reason: /must be a string/ }],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    const err = problemsOf(text);
    expect(err.code).toBe('RULE_SET_INVALID');
    const match = err.problems.find((p) => p.path === expected.path && expected.reason.test(p.reason));
    expect(match, `problems were ${JSON.stringify(err.problems)}`).toBeDefined();
    expect(match?.ruleId).toBe(expected.ruleId);
    expect(err.message).toContain('test.rules.yaml');
    if (expected.ruleId) expect(err.message).toContain(`rule '${expected.ruleId}'`);
  });

  it('lists every problem of a file, not only the first', () => {
    const err = problemsOf(
      withRule(
        '  - { id: a, when: { fact: weather, op: equals, value: x }, then: [{ decision: require_qc }] }\n' +
          '  - { id: b, when: { fact: channel, op: equals, value: jd }, then: [{ decision: require_approval }] }\n',
      ),
    );
    expect(err.problems.map((p) => p.ruleId).sort()).toEqual(['a', 'b']);
  });
});
