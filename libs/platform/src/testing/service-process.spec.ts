import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryArgs, testBuild } from './service-process';

describe('entryArgs: how a test starts a service', () => {
  const root = mkdtempSync(join(tmpdir(), 'entry-args-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('compiles the current TypeScript unless FLOWLINE_SERVICE_DIST=1', () => {
    expect(entryArgs(root, 'inventory', {})).toEqual(['-r', '@swc-node/register', 'services/inventory/src/main.ts']);
    expect(entryArgs(root, 'inventory', { FLOWLINE_SERVICE_DIST: '0' })).toEqual(['-r', '@swc-node/register', 'services/inventory/src/main.ts']);
  });

  it('starts the build the way npm start does with FLOWLINE_SERVICE_DIST=1, and refuses a missing build', () => {
    expect(() => entryArgs(root, 'inventory', { FLOWLINE_SERVICE_DIST: '1' })).toThrow(/dist\/services\/inventory\/src\/main\.js is missing: run npm run build/);
    mkdirSync(join(root, 'dist/services/inventory/src'), { recursive: true });
    writeFileSync(join(root, 'dist/services/inventory/src/main.js'), '');
    expect(entryArgs(root, 'inventory', { FLOWLINE_SERVICE_DIST: '1' })).toEqual(['--import', './dist/enable-source-maps.mjs', 'dist/services/inventory/src/main.js']);
  });
});

describe('testBuild: the build a test starts compiled services from', () => {
  const root = mkdtempSync(join(tmpdir(), 'test-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is its own folder, built by make() and removed by remove(), unless FLOWLINE_SERVICE_DIST=1', () => {
    expect(testBuild(root, '.data/x-1', {}).dir).toBe('.data/x-1');
    mkdirSync(join(root, '.data/x-1'), { recursive: true });
    testBuild(root, '.data/x-1', {}).remove();
    expect(existsSync(join(root, '.data/x-1'))).toBe(false);
  });

  it('reuses dist/ with FLOWLINE_SERVICE_DIST=1: checked, never removed', () => {
    const build = testBuild(root, '.data/x-2', { FLOWLINE_SERVICE_DIST: '1' });
    expect(build.dir).toBe('dist');
    expect(() => build.make()).toThrow(/dist\/ is not built/);
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'dist/enable-source-maps.mjs'), '');
    build.make();
    build.remove();
    expect(existsSync(join(root, 'dist/enable-source-maps.mjs'))).toBe(true);
  });
});
