import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../infra';

/**
 * scripts/run.sh (behind every root npm script) on a fresh clone: it installs the dependencies
 * itself (`npm ci`, one line saying why) when node_modules is missing or older than
 * package-lock.json, then runs the command — so `npm start` alone works. Run in a scratch copy of
 * the scripts with `npm`, `npx` and `node` replaced by recorders (no network, no real install).
 */
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A scratch copy of run.sh with `npm`, `npx` and `node` as recorders; `run` returns its output and the calls. */
function scratch(): { root: string; run(cmd: string): { output: string; calls: string[] } } {
  const root = mkdtempSync(join(tmpdir(), 'flowline-runsh-'));
  dir = root;
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(resolve(REPO_ROOT, 'scripts/run.sh'), join(root, 'scripts/run.sh'));
  writeFileSync(join(root, 'scripts/node-env.sh'), `export PATH="${join(root, 'bin')}:$PATH"\n`);
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  const log = join(root, 'calls.log');
  const recorder = (name: string, extra = '') => {
    const p = join(root, 'bin', name);
    writeFileSync(p, `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${extra}\n`);
    chmodSync(p, 0o755);
  };
  // npm ci creates node_modules and npm's hidden lock file, as the real one does.
  recorder('npm', `if [ "$1" = ci ]; then mkdir -p node_modules && echo '{}' > node_modules/.package-lock.json; fi`);
  recorder('npx');
  recorder('node');
  return {
    root,
    run(cmd) {
      const output = execFileSync('bash', ['-c', `bash scripts/run.sh ${cmd} 2>&1`], { cwd: root, encoding: 'utf8' });
      const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
      writeFileSync(log, '');
      return { output, calls };
    },
  };
}

describe('scripts/run.sh on a fresh clone', () => {
  it('npm start with no node_modules: installs with npm ci (saying so), then starts', () => {
    const first = scratch().run('start');
    expect(first.output).toContain('[run] node_modules is missing: installing dependencies (npm ci)');
    expect(first.calls[0]).toMatch(/^npm ci /);
    expect(first.calls[1]).toBe('node -r @swc-node/register scripts/start.ts');
  });

  it('does not install again when node_modules is current; does when package-lock.json is newer', () => {
    const s = scratch();
    s.run('typecheck');
    const again = s.run('typecheck');
    expect(again.output).not.toContain('installing dependencies');
    expect(again.calls).toEqual(['npx tsc -p tsconfig.json --noEmit']);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(s.root, 'package-lock.json'), later, later);
    const stale = s.run('typecheck');
    expect(stale.output).toContain('[run] node_modules is older than package-lock.json: installing dependencies (npm ci)');
    expect(stale.calls[0]).toMatch(/^npm ci /);
  });
});
