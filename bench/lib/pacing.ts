/**
 * Open-loop load: requests leave on a fixed schedule whatever the system answers, so a slow
 * system gets a growing queue (as it would from real buyers) instead of a politely slower client.
 * Latency is measured from each request's *intended* send time, which keeps the queueing delay in
 * the figure (no coordinated omission).
 */

/** Milliseconds after the start at which request `i` (0-based) is due at `ratePerSec`. */
export function intendedAt(i: number, ratePerSec: number): number {
  return (i * 1000) / ratePerSec;
}

/** How many requests are due `elapsedMs` after the start (request 0 is due at once), capped at `total`. */
export function dueCount(elapsedMs: number, ratePerSec: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

export interface OpenLoopOptions {
  ratePerSec: number;
  durationSec: number;
  /** Requests still unanswered beyond this are not sent (counted as `skipped`): protects the client. */
  maxInFlight: number;
  /** Sends request `i`; `intendedMs` is its due time on the `performance.now()` clock. */
  fire(i: number, intendedMs: number): Promise<void>;
  /** Timer tick; every due request goes out on each tick. */
  tickMs?: number;
}

export interface OpenLoopResult {
  sent: number;
  skipped: number;
  /** Wall time from the first due request to the last answer. */
  elapsedMs: number;
  /** Largest delay between a request's due time and its actual send (client-side lateness). */
  maxSendLagMs: number;
}

/** Runs one open-loop phase and resolves when every sent request has settled. */
export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(o.ratePerSec * o.durationSec));
  const tickMs = o.tickMs ?? 2;
  const start = performance.now();
  let next = 0;
  let inFlight = 0;
  let skipped = 0;
  let maxSendLagMs = 0;
  const pending = new Set<Promise<void>>();
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      const due = dueCount(now - start, o.ratePerSec, total);
      for (; next < due; next++) {
        const intended = start + intendedAt(next, o.ratePerSec);
        if (inFlight >= o.maxInFlight) {
          skipped++;
          continue;
        }
        maxSendLagMs = Math.max(maxSendLagMs, now - intended);
        inFlight++;
        const p: Promise<void> = o
          .fire(next, intended)
          .catch(() => undefined)
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
      }
      if (next >= total) done();
      else setTimeout(tick, tickMs);
    };
    tick();
  });
  await Promise.all([...pending]);
  return { sent: total - skipped, skipped, elapsedMs: performance.now() - start, maxSendLagMs };
}
