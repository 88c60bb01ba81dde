import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../infra';
import { alive, descendants, npmStart, type NpmStart } from './npm-start-harness';

/**
 * Issue #9 (item 8): `npm start` restarts a service that exits unexpectedly, with backoff, saying so.
 * `npm start -- --ts --only order-intake --no-seed --no-fakes` on free ports, databases and topics of
 * its own; the order-intake process is SIGKILLed; the supervisor says so, starts a new process, and
 * it is ready again; SIGTERM then stops everything. (`--ts`: runs the sources, so the shared dist/
 * of this working tree is not rebuilt under other tests.)
 */
let run: NpmStart | undefined;

afterAll(async () => {
  if (run && run.child.exitCode === null) await run.stop().catch(() => undefined);
  await run?.dropDatabases();
}, 60_000);

const waitUntil = async (what: string, ok: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) {
      const tree = run?.child.pid ? descendants(run.child.pid).map((p) => `${p.pid} ${p.args}`).join('\n') : '';
      throw new Error(`timed out: ${what}\nprocesses:\n${tree}\noutput:\n${run?.output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('npm start supervision', () => {
  it('restarts a SIGKILLed service, says so, and the new process is ready again', async () => {
    run = await npmStart(REPO_ROOT, ['--ts', '--only', 'order-intake', '--no-seed', '--no-fakes'], ['order-intake']);
    await run.waitForOutput(/1 service\(s\) ready in/, 150_000);
    await run.waitReady('order-intake', 10_000);
    const [first] = run.servicePids('order-intake');
    expect(first, run.output().slice(-2000)).toBeGreaterThan(0);

    process.kill(first, 'SIGKILL');
    await run.waitForOutput(/order-intake exited unexpectedly \(SIGKILL\); restarting it in 1 s \(restart 1\)/, 20_000);
    let second = 0;
    await waitUntil('a new order-intake process', () => ((second = run!.servicePids('order-intake').find((p) => p !== first) ?? 0), second > 0), 30_000);
    expect(alive(first)).toBe(false);
    await run.waitReady('order-intake', 90_000);
    expect(run.servicePids('order-intake')).toEqual([second]);

    const r = await run.stop();
    expect(r.code === 0 || r.signal === 'SIGTERM', JSON.stringify(r)).toBe(true);
    await waitUntil('order-intake stopped', () => !alive(second), 20_000);
    expect(run.output()).toMatch(/\[start\].*SIGTERM: stopping 1 service\(s\)/);
  }, 300_000);
});
