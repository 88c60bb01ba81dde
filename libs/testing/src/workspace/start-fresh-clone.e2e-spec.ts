import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../infra';
import { alive, DEFAULT_PORTS, npmStart, type NpmStart } from './npm-start-harness';

/**
 * Issue #9 must-show: "A fresh clone: `npm start` alone brings the system up (no prior `npm install`)".
 * Clones this repository's HEAD into a temp folder (`git clone --no-hardlinks`: no node_modules, no
 * dist/), runs `npm start -- --no-seed --no-fakes` there against the running Kafka and PostgreSQL on
 * free ports, databases and topics of its own: scripts/run.sh must install the dependencies (npm ci,
 * from the npm cache or the registry), build, and start every service until each answers
 * /health/ready; SIGTERM then stops every service process. Without network or npm cache, npm ci
 * fails and so does this test, with npm's output in the message (never a pass).
 * (--no-fakes: the local fakes listen on fixed ports that a running system may hold.)
 */
const SERVICES = Object.keys(DEFAULT_PORTS);
let dir: string | undefined;
let run: NpmStart | undefined;

afterAll(async () => {
  if (run && run.child.exitCode === null) await run.stop().catch(() => undefined);
  await run?.dropDatabases();
  // The clone holds a full node_modules (~1.3 GB): removed in the background, not within the hook.
  if (dir) spawn('rm', ['-rf', dir], { detached: true, stdio: 'ignore' }).unref();
}, 120_000);

describe('a fresh clone', () => {
  it('npm start alone installs, builds and brings every service up; SIGTERM stops them all', async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowline-clone-'));
    execFileSync('git', ['clone', '-q', '--no-hardlinks', REPO_ROOT, dir], { stdio: 'pipe' });
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);

    const t0 = Date.now();
    run = await npmStart(dir, ['--no-seed', '--no-fakes'], SERVICES);
    const installed = await run.waitForOutput(/node_modules is missing: installing dependencies \(npm ci\)/, 30_000);
    expect(installed).toBeTruthy();
    await run.waitForOutput(new RegExp(`${SERVICES.length} service\\(s\\) ready in`), 420_000);
    for (const s of SERVICES) await run.waitReady(s, 10_000);
    const upAfter = Math.round((Date.now() - t0) / 1000);
    const pids = run.servicePids();
    expect(pids).toHaveLength(SERVICES.length);
    process.stdout.write(`fresh clone: npm ci + build + ${SERVICES.length} services ready ${upAfter} s after npm start\n`);

    await run.stop(60_000);
    const deadline = Date.now() + 30_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(pids.filter(alive), run.output().slice(-3000)).toEqual([]);
    expect(run.output()).toMatch(/SIGTERM: stopping 9 service\(s\)/);
  }, 600_000);
});
