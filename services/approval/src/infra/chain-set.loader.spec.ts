import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainSetFile } from './chain-set.loader';

const v = (version: string, role: string) => `chainSetVersion: "${version}"\nchains: { c: { steps: [ { id: s, role: ${role} } ] } }\n`;

describe('chain file hot reload', () => {
  it('takes a valid edit, refuses an invalid one and keeps the last good chains', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'chains-')), 'c.chains.yaml');
    writeFileSync(path, v('1', 'sales'));
    const reloaded: string[] = [];
    const invalid: string[] = [];
    const file = new ChainSetFile(path, { onReload: (s) => reloaded.push(s.version), onInvalid: (e) => invalid.push(e.message) });
    expect(file.current().version).toBe('1');
    writeFileSync(path, v('2', 'finance'));
    expect(file.reload().chains.c.steps[0].role).toBe('finance');
    writeFileSync(path, 'chainSetVersion: "3"\nchains: { c: { steps: [ { id: s, rol: x } ] } }\n');
    expect(file.reload().version).toBe('2');
    expect(reloaded).toEqual(['2']);
    expect(invalid[0]).toContain('unknown field rol');
  });
});
