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

describe('polling subscription: onScanned', () => {
  const at = (n: number): LogPosition => ({ commit: BigInt(n), prepare: BigInt(n) });

  it('reports a cursor moved past filtered rows only after every delivered event was handled, only when it moves forward, never on a full page', async () => {
    const signal = new ChangeSignal();
    // Scripted pages: a full page (its scannedTo is not trusted), a short page with filtered rows after
    // its event, a page whose scannedTo is behind the cursor, and one that moves past filtered rows only.
    const pages: PollPage[] = [
      { events: [{ position: at(1) } as RecordedEvent, { position: at(2) } as RecordedEvent], scannedTo: at(5) },
      { events: [{ position: at(6) } as RecordedEvent], scannedTo: at(9) },
      { events: [], scannedTo: at(7) },
      { events: [], scannedTo: at(12) },
    ];
    const log: string[] = [];
    const afters: LogPosition[] = [];
    const poll = async (after: LogPosition): Promise<PollPage> => {
      afters.push(after);
      const page = pages.shift();
      if (!page) {
        await new Promise((r) => setTimeout(r, 5));
        return { events: [] };
      }
      return page;
    };
    const sub = startPollingSubscription(
      {
        batchSize: 2,
        onEvent: async (e) => {
          await new Promise((r) => setTimeout(r, 2));
          log.push(`event ${e.position.commit}`);
        },
        onScanned: (p) => log.push(`scanned ${p.commit}`),
      },
      { poll, signal, pollIntervalMs: 1, minReadGapMs: 0 },
    );
    const until = Date.now() + 2_000;
    while (afters.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await sub.stop();
    // Page 1 is full (batchSize 2): the next read starts after its last event. Page 2's scannedTo is
    // reported once its event was handled; page 3's (7) is not past the cursor; page 4's (12) is.
    expect(log).toEqual(['event 1', 'event 2', 'event 6', 'scanned 9', 'scanned 12']);
    expect(afters.slice(0, 5).map((p) => Number(p.commit))).toEqual([-1, 2, 9, 9, 12]);
  });
});
