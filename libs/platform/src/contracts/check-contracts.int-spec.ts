import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '../../../..');
const SCRIPT = join(REPO, 'scripts/check-contracts.sh');

/**
 * scripts/check-contracts.sh on a throw-away git repository holding a copy of proto/: a published
 * proto changed incompatibly fails buf breaking, an additive change passes. Never touches main.
 */
describe('scripts/check-contracts.sh (proto checks, on a temp copy)', () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=ci@flowline.test', '-c', 'user.name=ci', ...args], { cwd: dir, encoding: 'utf8' });
  const check = () => spawnSync('bash', [SCRIPT, '--root', dir, '--only', 'proto'], { encoding: 'utf8', timeout: 120_000 });
  const edit = (file: string, from: string, to: string) => {
    const path = join(dir, 'proto', file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
    writeFileSync(path, text.replace(from, to));
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowline-contracts-'));
    cpSync(join(REPO, 'proto'), join(dir, 'proto'), { recursive: true });
    git('init', '-q', '-b', 'main');
    git('add', 'proto');
    git('commit', '-q', '-m', 'baseline');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on an additive change: a new field with a new number', () => {
    edit('common/v1/common.proto', '  string currency = 2;\n}', '  string currency = 2;\n  // Added later.\n  string note = 3;\n}');
    git('commit', '-q', '-am', 'additive');
    const run = check();
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('all contract checks passed');
  });

  it('fails when a published field is removed, naming the break', () => {
    edit('common/v1/common.proto', '  string currency = 2;\n', '');
    git('commit', '-q', '-am', 'breaking: drop Money.currency');
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/common\/v1\/common\.proto.*(Previously present field "2" with name "currency"|deleted)/);
    expect(run.stderr).toContain('FAILED: buf breaking');
  });

  it('fails when a field changes type, even with its number kept', () => {
    git('revert', '--no-edit', 'HEAD');
    edit('orders/v1/orders.proto', 'string order_id = 1;', 'int64 order_id = 1;');
    git('commit', '-q', '-am', 'breaking: order_id type');
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/orders\/v1\/orders\.proto.*type/i);
  });

  it('fails buf lint on a field that breaks the STANDARD naming rules', () => {
    git('revert', '--no-edit', 'HEAD');
    edit('common/v1/common.proto', 'string note = 3;', 'string NoteText = 3;');
    const run = check();
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('FAILED: buf lint');
  });
});
