import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuleSetInvalid } from '../domain/rules/rule-set';
import { DEFAULT_RULES_FILE } from './order-intake.config';
import { RuleSetFile } from './rule-set.loader';

const original = readFileSync(DEFAULT_RULES_FILE, 'utf8');
const dirs: string[] = [];
function tempRules(text = original): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  dirs.push(dir);
  const file = resolve(dir, 'test.rules.yaml');
  writeFileSync(file, text);
  return file;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('RuleSetFile', () => {
  it('refuses to start on an invalid file, naming the rule and the reason', () => {
    const file = tempRules(original.replace('chain: custom-order', 'chian: custom-order'));
    expect(() => new RuleSetFile(file)).toThrow(RuleSetInvalid);
    expect(() => new RuleSetFile(file)).toThrow(/rule 'approval-large-or-custom' at rules\[1\]\.then\[0\]: missing property "chain"/);
  });

  it('reloads an edited file without a restart: new version and hash', () => {
    const file = tempRules();
    const reloaded: string[] = [];
    const rules = new RuleSetFile(file, { onReload: (rs) => reloaded.push(rs.ruleSetVersion) });
    const before = rules.current();
    writeFileSync(file, original.replace('ruleSetVersion: "2025.12.1"', 'ruleSetVersion: "2025.12.2"').replace('2000000', '500000'));
    const after = rules.reload();
    expect(after.ruleSetVersion).toBe('2025.12.2');
    expect(after.params.approvalThresholdFen).toBe(500000);
    expect(after.hash).not.toBe(before.hash);
    expect(reloaded).toEqual(['2025.12.2']);
  });

  it('keeps the last good rules when an edit is invalid, and reports why', () => {
    const file = tempRules();
    const errors: string[] = [];
    const rules = new RuleSetFile(file, { onInvalid: (e) => errors.push(e.message) });
    const good = rules.current();
    writeFileSync(file, original.replace('op: contains, value: blocked', 'op: contains, value: 42'));
    expect(rules.reload()).toBe(good);
    expect(errors[0]).toMatch(/rule 'hold-blocked-customer' at rules\[0\]\.when\.value: must be a string/);
  });

  it('watches the file and picks up a change by itself', async () => {
    const file = tempRules();
    const rules = new RuleSetFile(file, { pollIntervalMs: 20 }).watch();
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(file, original.replace('ruleSetVersion: "2025.12.1"', 'ruleSetVersion: "2025.12.9"'));
      await expect.poll(() => rules.current().ruleSetVersion, { timeout: 5_000 }).toBe('2025.12.9');
    } finally {
      rules.close();
    }
  });

  it('applies parameter overrides from configuration', () => {
    expect(new RuleSetFile(tempRules(), { paramOverrides: { approvalThresholdFen: 100 } }).current().params.approvalThresholdFen).toBe(100);
  });
});
