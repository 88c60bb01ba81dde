import { Injectable } from '@nestjs/common';
import { withinDeadline } from '@flowline/messaging';

/** How one step of a stop ended. */
export type ShutdownStepOutcome = 'done' | 'failed' | 'timed out';

export interface ShutdownStepRecord {
  step: string;
  ms: number;
  outcome: ShutdownStepOutcome;
  /** The step's bound, when it had one. */
  boundMs?: number;
  error?: string;
}

/** A step slower than this is named in a warn line at the end of the stop. */
export const SLOW_SHUTDOWN_STEP_MS = 2_000;

/**
 * The steps of one service's stop, timed: the shutdown hooks run their parts through `run(...)`,
 * bootstrap adds the HTTP and gRPC server closes, and when the stop ends one info line lists every
 * step with its milliseconds (plus a warn naming each step over {@link SLOW_SHUTDOWN_STEP_MS}).
 * A step with a bound resolves at the bound even when its work has not settled: the work goes on
 * unawaited and the stop moves on (what was not committed is redelivered), so no single step can
 * eat SHUTDOWN_TIMEOUT_MS.
 *
 * One per application (a provider of PlatformModule), not per process: tests boot several apps in one.
 */
@Injectable()
export class ShutdownSteps {
  private readonly records: ShutdownStepRecord[] = [];

  /**
   * Runs `work` as step `step`; resolves true when it settled (done or failed: a failed step is
   * recorded and logged, never thrown, so the steps after it still run), false when `boundMs`
   * came first.
   */
  async run(step: string, work: () => unknown, boundMs?: number): Promise<boolean> {
    const started = performance.now();
    let error: string | undefined;
    const settled = (async () => {
      try {
        await work();
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    })();
    const inTime = boundMs === undefined ? (await settled, true) : await withinDeadline(settled, boundMs);
    this.record({ step, ms: performance.now() - started, outcome: !inTime ? 'timed out' : error === undefined ? 'done' : 'failed', boundMs, error });
    return inTime;
  }

  record(r: ShutdownStepRecord): void {
    this.records.push({ ...r, ms: Math.round(r.ms) });
  }

  list(): readonly ShutdownStepRecord[] {
    return this.records;
  }

  /** The steps over {@link SLOW_SHUTDOWN_STEP_MS} or not done, for the warn line. */
  slow(thresholdMs = SLOW_SHUTDOWN_STEP_MS): ShutdownStepRecord[] {
    return this.records.filter((r) => r.ms > thresholdMs || r.outcome !== 'done');
  }
}

/** `name 123 ms, other 4 ms (timed out at 5000)` */
export function formatShutdownSteps(records: readonly ShutdownStepRecord[]): string {
  return records
    .map((r) => `${r.step} ${r.ms} ms${r.outcome === 'done' ? '' : r.outcome === 'timed out' ? ` (timed out at ${r.boundMs})` : ` (failed: ${r.error})`}`)
    .join(', ');
}
