import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasSecret, liveSecret } from './secrets';

describe('liveSecret: rotation without a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowline-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads <NAME>_FILE again once the mounted file changes (a rotated Kubernetes Secret)', () => {
    const file = join(dir, 'webhook-secret');
    writeFileSync(file, 'first-value\n');
    utimesSync(file, 1000, 1000);
    let now = 0;
    const env = { WEBHOOK_URL_SECRET_FILE: file };
    const read = () => liveSecret('WEBHOOK_URL_SECRET', { env, now: () => now });
    expect(read()).toBe('first-value');
    writeFileSync(file, 'second-value\n');
    utimesSync(file, 2000, 2000);
    now += 500; // within the recheck interval: the cached value
    expect(read()).toBe('first-value');
    now += 1_000;
    expect(read()).toBe('second-value');
  });

  it('falls back to the environment variable, and names the variable when the file is missing', () => {
    expect(liveSecret('X_SECRET', { env: { X_SECRET: ' v ' } })).toBe('v');
    expect(liveSecret('X_SECRET', { env: {} })).toBeUndefined();
    expect(() => liveSecret('Y_SECRET', { env: { Y_SECRET_FILE: join(dir, 'nope') } })).toThrow(/Y_SECRET_FILE/);
    expect(hasSecret('Z', { Z_FILE: '/run/secrets/z' })).toBe(true);
    expect(hasSecret('Z', {})).toBe(false);
  });
});
