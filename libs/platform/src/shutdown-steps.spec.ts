import { describe, expect, it } from 'vitest';
import { formatShutdownSteps, ShutdownSteps } from './shutdown-steps';

describe('ShutdownSteps', () => {
  it('records each step in order with its outcome: done, failed (not thrown) or timed out at its bound', async () => {
    const steps = new ShutdownSteps();
    expect(await steps.run('pool end', async () => undefined, 1_000)).toBe(true);
    expect(await steps.run('relay stop', () => Promise.reject(new Error('broker gone')), 1_000)).toBe(true);
    expect(await steps.run('consumer stop', () => new Promise(() => undefined), 20)).toBe(false);
    expect(await steps.run('sync step', () => 1)).toBe(true);
    expect(steps.list().map((r) => [r.step, r.outcome])).toEqual([
      ['pool end', 'done'],
      ['relay stop', 'failed'],
      ['consumer stop', 'timed out'],
      ['sync step', 'done'],
    ]);
    expect(steps.list()[1].error).toBe('broker gone');
  });

  it('names the slow steps and those not done for the warn line', () => {
    const steps = new ShutdownSteps();
    steps.record({ step: 'HTTP server close', ms: 3_003.4, outcome: 'done', boundMs: 6_000 });
    steps.record({ step: 'gRPC server close', ms: 2, outcome: 'done' });
    steps.record({ step: 'relay stop', ms: 6_000, outcome: 'timed out', boundMs: 6_000 });
    steps.record({ step: 'pool end', ms: 1, outcome: 'failed', error: 'x' });
    expect(steps.slow().map((r) => r.step)).toEqual(['HTTP server close', 'relay stop', 'pool end']);
    expect(formatShutdownSteps(steps.list())).toBe(
      'HTTP server close 3003 ms, gRPC server close 2 ms, relay stop 6000 ms (timed out at 6000), pool end 1 ms (failed: x)',
    );
  });
});
