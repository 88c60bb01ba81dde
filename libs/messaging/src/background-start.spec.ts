import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundStart } from './background-start';
import { componentReadiness, forgetReadiness } from './readiness';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
/** The stop's bounded wait in these tests (3 s in a service). */
const STOP_WAIT_MS = 200;

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('BackgroundStart', () => {
  const component = 'test background start';
  afterEach(() => forgetReadiness(component));

  it('waits for a first attempt that succeeds, reports ready, and stops what it started', async () => {
    const calls: string[] = [];
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: async () => void calls.push('attempt'),
      stopParts: async () => void calls.push('stop'),
    });
    await start.begin(1_000);
    expect(componentReadiness()[component]?.ready).toBe(true);
    await start.stop();
    expect(calls).toEqual(['attempt', 'stop']);
    expect(componentReadiness()[component]).toBeUndefined();
  });

  it('does not hold the boot longer than the first wait, and retries after a failure', async () => {
    let n = 0;
    const second = deferred();
    const cleanups: number[] = [];
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: async () => {
        n++;
        if (n === 1) throw new Error('broker away');
        second.resolve();
      },
      stopParts: async () => void cleanups.push(n),
    });
    const t0 = Date.now();
    await start.begin(50);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(componentReadiness()[component]).toMatchObject({ ready: false, reason: 'broker away' });
    await second.promise; // the retry (backoff ~500 ms)
    await new Promise((r) => setImmediate(r));
    expect(componentReadiness()[component]?.ready).toBe(true);
    expect(cleanups).toEqual([1]); // the failed attempt was undone before the retry
    await start.stop();
  });

  it('a stop during a hanging attempt returns after its bounded wait; the attempt finishing later stops what it started', async () => {
    const hanging = deferred();
    const stops: string[] = [];
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: () => hanging.promise,
      stopParts: async () => void stops.push('stop'),
      stopWaitMs: STOP_WAIT_MS,
    });
    await start.begin(10);
    const t0 = Date.now();
    await start.stop();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(STOP_WAIT_MS - 10);
    expect(waited).toBeLessThan(STOP_WAIT_MS + 1_000);
    expect(stops).toEqual(['stop']);
    hanging.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(stops).toEqual(['stop', 'stop']);
    expect(componentReadiness()[component]).toBeUndefined();
  });

  it('an attempt that fails after the stop began is not retried and leaves no red component', async () => {
    const hanging = deferred();
    let attempts = 0;
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: () => {
        attempts++;
        return hanging.promise;
      },
      stopParts: async () => undefined,
    });
    await start.begin(10);
    const stopping = start.stop();
    hanging.reject(new Error('connection closed'));
    await stopping;
    await new Promise((r) => setTimeout(r, 700));
    expect(attempts).toBe(1);
    expect(componentReadiness()[component]).toBeUndefined();
  });

  it('an attempt that fails after the stop already returned is not retried, stops what it started, and leaves no red component', async () => {
    const hanging = deferred();
    let attempts = 0;
    const stops: string[] = [];
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: () => {
        attempts++;
        return hanging.promise;
      },
      stopParts: async () => void stops.push('stop'),
      stopWaitMs: STOP_WAIT_MS,
    });
    await start.begin(10);
    await start.stop(); // returns after its bounded wait, the attempt still in flight
    expect(componentReadiness()[component]).toBeUndefined();
    hanging.reject(new Error('connection closed'));
    await new Promise((r) => setTimeout(r, 700));
    expect(attempts).toBe(1);
    expect(stops).toEqual(['stop', 'stop']);
    expect(componentReadiness()[component]).toBeUndefined();
  });

  it("runs the stop path's and a late attempt's clean-up one after the other, never interleaved", async () => {
    const hanging = deferred();
    const log: string[] = [];
    let n = 0;
    const start = new BackgroundStart(component, {
      logger: quiet,
      attempt: () => hanging.promise,
      stopParts: async () => {
        const k = ++n;
        log.push(`begin ${k}`);
        await new Promise((r) => setTimeout(r, 50));
        log.push(`end ${k}`);
      },
      stopWaitMs: STOP_WAIT_MS,
    });
    await start.begin(10);
    const stopping = start.stop();
    await new Promise((r) => setTimeout(r, STOP_WAIT_MS + 10)); // the stop path's clean-up has begun
    hanging.resolve(); // the attempt ends meanwhile: its clean-up waits for the first one
    await stopping;
    await new Promise((r) => setTimeout(r, 120));
    expect(log).toEqual(['begin 1', 'end 1', 'begin 2', 'end 2']);
  });

  it('begin after stop starts nothing and reports nothing', async () => {
    let attempts = 0;
    const start = new BackgroundStart(component, { logger: quiet, attempt: async () => void attempts++, stopParts: async () => undefined });
    await start.stop();
    await start.begin(10);
    expect(attempts).toBe(0);
    expect(componentReadiness()[component]).toBeUndefined();
  });

  it('stop before begin stops nothing', async () => {
    let stopped = false;
    const start = new BackgroundStart(component, { logger: quiet, attempt: async () => undefined, stopParts: async () => void (stopped = true) });
    await start.stop();
    expect(stopped).toBe(false);
  });
});
