import { describe, expect, it } from 'vitest';
import type { StepResult } from '../lib/e2e-step';
import { climb } from './e2e';

/** A system that holds every rate up to `capacity` (p99 200 ms) and none above (p99 3 s). */
function system(capacity: number) {
  const probed: string[] = [];
  const step = async (rate: number, sec: number): Promise<StepResult> => {
    probed.push(`${rate}x${sec}`);
    const ok = rate <= capacity;
    return { rate, durationSec: sec, accepted: rate * sec, failed: 0, skipped: 0, unfinished: 0, p50Ms: ok ? 100 : 2_000, p99Ms: ok ? 200 : 3_000, maxMs: ok ? 250 : 3_500, extra: {}, maxBacklog: 1, drainMs: 50, clientLagMs: 5, failures: {} };
  };
  return { probed, step };
}

describe('e2e ladder', () => {
  it('probes the midpoint once after the first rate not held, and holds it when it is held', async () => {
    const s = system(40);
    const r = await climb([25, 50, 100], 10, 60, s.step, 'test');
    expect(s.probed).toEqual(['25x10', '50x10', '40x10', '40x60']);
    expect(r.best?.rate).toBe(40);
    expect(r.hold?.rate).toBe(40);
  });

  it('keeps the lower rate when the midpoint is not held either', async () => {
    const s = system(30);
    const r = await climb([25, 50, 100], 10, 60, s.step, 'test');
    expect(s.probed).toEqual(['25x10', '50x10', '40x10', '25x60']);
    expect(r.best?.rate).toBe(25);
  });

  it('half the first rung when that one is not held; no midpoint when every rung is held', async () => {
    const low = system(15);
    expect((await climb([25, 50], 10, 60, low.step, 'test')).best?.rate).toBe(15);
    expect(low.probed).toEqual(['25x10', '15x10', '15x60']);
    const none = system(5);
    expect((await climb([25, 50], 10, 60, none.step, 'test')).best).toBeNull();
    expect(none.probed).toEqual(['25x10', '15x10']);
    const all = system(1_000);
    await climb([25, 50], 10, 60, all.step, 'test');
    expect(all.probed).toEqual(['25x10', '50x10', '50x60']);
  });
});
