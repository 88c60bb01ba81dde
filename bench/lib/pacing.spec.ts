import { describe, expect, it } from 'vitest';
import { dueCount, intendedAt, openLoop } from './pacing';

describe('open-loop pacing', () => {
  it('spaces requests evenly at the given rate', () => {
    expect(intendedAt(0, 100)).toBe(0);
    expect(intendedAt(1, 100)).toBe(10);
    expect(intendedAt(250, 1000)).toBe(250);
  });

  it('counts the requests due by a moment, the first at once, capped at the total', () => {
    expect(dueCount(-1, 100, 50)).toBe(0);
    expect(dueCount(0, 100, 50)).toBe(1);
    expect(dueCount(9.9, 100, 50)).toBe(1);
    expect(dueCount(10, 100, 50)).toBe(2);
    expect(dueCount(10_000, 100, 50)).toBe(50);
  });

  it('keeps sending on schedule while earlier requests are still unanswered', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sent = 0;
    // No answer comes back until all 40 requests went out: a closed loop would stall at the first.
    const r = await openLoop({
      ratePerSec: 200,
      durationSec: 0.2,
      maxInFlight: 1_000,
      fire: async () => {
        if (++sent === 40) release();
        await gate;
      },
    });
    expect(r.sent).toBe(40);
    expect(r.skipped).toBe(0);
    expect(sent).toBe(40);
  });

  it('skips rather than queues in the client beyond maxInFlight', async () => {
    const r = await openLoop({ ratePerSec: 1_000, durationSec: 0.05, maxInFlight: 5, fire: () => new Promise((w) => setTimeout(w, 200)) });
    expect(r.sent).toBe(5);
    expect(r.skipped).toBe(45);
  });
});
