import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPortalKeys } from './portal-keys';
import type { PortalConfig } from './portal.config';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'portal-keys-'));
  dirs.push(d);
  return join(d, 'keys');
};

describe('loadPortalKeys without keys in the environment', () => {
  it('generates the key and secret once and reads the same ones back on the next boot', () => {
    const keyDir = freshDir();
    const first = loadPortalKeys({ keyDir } as PortalConfig, {});
    const second = loadPortalKeys({ keyDir } as PortalConfig, {});
    expect(second.kid).toBe(first.kid);
    expect(second.secret).toBe(first.secret);
    expect(readdirSync(keyDir).sort()).toEqual(['portal-es256.pem', 'portal-secret']); // no temporary file left
  });

  it('processes booting together on one directory all start and sign with one key', async () => {
    const keyDir = freshDir();
    const module = resolve(__dirname, 'portal-keys.ts');
    const script = `const { loadPortalKeys } = await import(${JSON.stringify(module)}); const k = loadPortalKeys({ keyDir: ${JSON.stringify(keyDir)} }, {}); console.log(k.kid + ' ' + k.secret);`;
    const outs = await Promise.all(
      Array.from({ length: 8 }, () => run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' } })),
    );
    const lines = new Set(outs.map((o) => o.stdout.trim()));
    expect(lines.size).toBe(1);
    expect(readdirSync(keyDir).sort()).toEqual(['portal-es256.pem', 'portal-secret']);
  });
});
