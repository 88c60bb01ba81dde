import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { carrierConfigsFromEnv } from './carrier-config';

describe('carrier credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowline-carrier-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a check word from a mounted Secret file per use: a rotation applies without a restart', async () => {
    const file = join(dir, 'sf-check-word');
    writeFileSync(file, 'old-check-word');
    utimesSync(file, 1000, 1000);
    const sf = carrierConfigsFromEnv({ SF_EXPRESS_URL: 'http://127.0.0.1:1/sf', SF_EXPRESS_PARTNER_ID: 'P1', SF_EXPRESS_CHECK_WORD_FILE: file }).sf;
    expect(sf?.checkWord).toBe('old-check-word');
    writeFileSync(file, 'new-check-word');
    utimesSync(file, 2000, 2000);
    await expect.poll(() => sf?.checkWord, { timeout: 10_000, interval: 100 }).toBe('new-check-word');
    expect(sf?.partnerId).toBe('P1');
  });

  it('still refuses half a configuration, counting *_FILE variables as set', () => {
    expect(() => carrierConfigsFromEnv({ KUAIDI100_URL: 'u', KUAIDI100_KEY_FILE: '/run/secrets/k' })).toThrow(/KUAIDI100_SALT/);
    expect(carrierConfigsFromEnv({}).cainiao).toBeNull();
  });
});
