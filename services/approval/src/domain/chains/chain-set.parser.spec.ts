import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainSetInvalid, outOfOfficeDelegate, parseDuration } from './chain-set';
import { parseChainSet } from './chain-set.parser';

const DEFAULT = resolve(__dirname, '../../../chains/default.chains.yaml');

function problems(text: string) {
  try {
    parseChainSet(text, { source: 'test.yaml' });
  } catch (e) {
    if (e instanceof ChainSetInvalid) return e.problems;
    throw e;
  }
  throw new Error('expected the chain set to be refused');
}

describe('approval chain files', () => {
  it('reads the default chains: custom-order sales -> designer -> cost -> GM, order-change CS -> warehouse -> finance, 8 h SLA', () => {
    const set = parseChainSet(readFileSync(DEFAULT, 'utf8'));
    expect(set.version).toBe('2026.12.1');
    expect(set.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(set.chains['custom-order'].steps.map((s) => s.role)).toEqual(['sales', 'designer', 'cost_accountant', 'general_manager']);
    expect(set.chains['order-change'].steps.map((s) => s.role)).toEqual(['customer_service', 'warehouse', 'finance']);
    expect(set.chains['custom-order'].steps[0]).toMatchObject({ slaMs: 8 * 3_600_000, remindAfterMs: 6 * 3_600_000, quorum: 'any' });
  });

  it('hashes the text: the same version with other content has another hash', () => {
    const a = parseChainSet('chainSetVersion: "1"\nchains: { c: { steps: [ { id: s, role: sales } ] } }');
    const b = parseChainSet('chainSetVersion: "1"\nchains: { c: { steps: [ { id: s, role: finance } ] } }');
    expect(a.hash).not.toBe(b.hash);
  });

  it('refuses unknown fields, steps without an approver, bad durations, naming the path', () => {
    expect(problems('chainSetVersion: "1"\nchains: { c: { steps: [ { id: s, role: sales, slaa: 2h } ] } }')).toContainEqual({ path: '/chains/c/steps/0', reason: 'unknown field slaa' });
    expect(problems('chainSetVersion: "1"\nchains: { c: { steps: [ { id: s } ] } }').length).toBeGreaterThan(0);
    expect(problems('chainSetVersion: "1"\nchains: { c: { steps: [ { id: s, role: sales, sla: 8 hours } ] } }')[0].path).toBe('/chains/c/steps/0/sla');
  });

  it('refuses quorum all on a role, duplicate step ids and a reminder after the SLA', () => {
    const p = problems(`chainSetVersion: "1"
chains:
  c:
    steps:
      - { id: s, role: sales, quorum: all }
      - { id: s, role: finance, sla: 1h, remindAfter: 2h }`);
    expect(p.map((x) => x.path)).toEqual(['/chains/c/steps/0/quorum', '/chains/c/steps/1/id', '/chains/c/steps/1/remindAfter']);
  });

  it('durations and out-of-office delegation', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(() => parseDuration('2w')).toThrow();
    const rules = [
      { user: 'a', delegateTo: 'b', from: '2026-12-01T00:00:00Z', until: '2026-12-03T00:00:00Z' },
      { user: 'b', delegateTo: 'c', from: '2026-12-02T00:00:00Z', until: '2026-12-03T00:00:00Z' },
    ];
    expect(outOfOfficeDelegate(rules, 'a', '2026-12-01T10:00:00Z')).toBe('b');
    expect(outOfOfficeDelegate(rules, 'a', '2026-12-02T10:00:00Z')).toBe('c');
    expect(outOfOfficeDelegate(rules, 'a', '2026-12-04T10:00:00Z')).toBeNull();
  });
});
