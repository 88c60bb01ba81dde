import { describe, expect, it } from 'vitest';
import { ChangeSignal, startPollingSubscription, type PollPage } from './internal';
import type { LogPosition, RecordedEvent } from './port';

/*
 * The subscription loop's read gap (minReadGapMs): a burst of commits, each waking the loop,
 * is read in a few pages instead of one read per commit, and every event still arrives once,
 * in order.
 */

function burst(minReadGapMs: number): Promise<{ polls: number; delivered: number[]; burstMs: number }> {
  const log: RecordedEvent[] = [];
  const signal = new ChangeSignal();
  let polls = 0;
  const delivered: number[] = [];
  const poll = async (after: LogPosition): Promise<PollPage> => {
    polls++;
    await new Promise((r) => setTimeout(r, 1));
    return { events: log.filter((e) => e.position.commit > after.commit) };
  };
  const sub = startPollingSubscription(
    {
      onEvent: async (e) => {
        delivered.push(Number(e.position.commit));
      },
    },
    { poll, signal, pollIntervalMs: 60_000, minReadGapMs },
  );
  return (async () => {
    // 30 commits about 2 ms apart, each waking the loop.
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      log.push({ position: { commit: BigInt(i), prepare: BigInt(i) } } as RecordedEvent);
      signal.notify();
      await new Promise((r) => setTimeout(r, 2));
    }
    const burstMs = Date.now() - started;
    const until = Date.now() + 2_000;
    while (delivered.length < 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await sub.stop();
    return { polls, delivered, burstMs };
  })();
}

describe('polling subscription: read gap after a wake-up', () => {
  it('reads a burst of 30 commits in a few pages with a 40 ms gap, once per commit or so without; every event once, in order', async () => {
    const gapped = await burst(40);
    const eager = await burst(0);
    const inOrder = Array.from({ length: 30 }, (_, i) => i);
    expect(gapped.delivered).toEqual(inOrder);
    expect(eager.delivered).toEqual(inOrder);
    // At most one read per 40 ms of the burst (plus the first, at start, and the last after it),
    // whatever the timers' real resolution on a loaded machine.
    expect(gapped.polls).toBeLessThanOrEqual(Math.ceil(gapped.burstMs / 40) + 2);
    expect(eager.polls).toBeGreaterThan(Math.ceil(eager.burstMs / 40) + 2);
  });
});
