import { backoffDelay, sleep } from './backoff';
import { errorMessage, type MessagingLogger } from './logger';
import { forgetReadiness, reportReadiness } from './readiness';

/**
 * How long a stop waits for a start attempt in flight before stopping what exists: an attempt
 * against a broker that is away can take kafkajs' whole retry budget (20-50 s), longer than a
 * pod's grace period. What the attempt starts later is stopped by {@link startInBackground}.
 */
export const BACKGROUND_START_STOP_WAIT_MS = 3_000;

/** Waits for a background start at most {@link BACKGROUND_START_STOP_WAIT_MS} (the stop path). */
export async function settleBackgroundStart(starting: Promise<void>, ms = BACKGROUND_START_STOP_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([starting, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Starts a service's Kafka side (topics, publisher, relay, consumers) in the background and keeps
 * trying with backoff until it is up: a service started while the broker is away serves HTTP
 * (health probes included, readiness red naming why) instead of failing its boot and being
 * restarted in a loop. `cleanup` undoes a half-done attempt before the next one. Resolves once
 * started, or when `signal` aborts (the service is stopping).
 */
export function startInBackground(
  component: string,
  attempt: () => Promise<void>,
  options: { logger: MessagingLogger; signal: AbortSignal; cleanup?: () => Promise<void> },
): Promise<void> {
  reportReadiness(component, false, 'starting');
  const abandon = async (): Promise<void> => {
    await options.cleanup?.().catch(() => undefined);
    forgetReadiness(component);
  };
  return (async () => {
    for (let n = 0; !options.signal.aborted; n++) {
      try {
        await attempt();
        // Stopped while the attempt ran: what it started is stopped here (the stop path does not wait for it).
        if (options.signal.aborted) return await abandon();
        reportReadiness(component, true);
        return;
      } catch (e) {
        // Failed after the stop began: nothing to retry, nothing left to report.
        if (options.signal.aborted) return await abandon();
        reportReadiness(component, false, errorMessage(e));
        options.logger.warn(`${component} could not start; retrying`, { attempt: n + 1, error: errorMessage(e) });
        await options.cleanup?.().catch(() => undefined);
        if (!(await sleep(backoffDelay(n, { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 }), options.signal))) return;
      }
    }
  })();
}

/** How long a boot waits for the first attempt before serving anyway (topics exist for clients that publish right after boot). */
export const BACKGROUND_START_FIRST_WAIT_MS = 5_000;

/**
 * One owner for a service's Kafka side started in the background ({@link startInBackground}):
 * `begin` starts the attempts and waits for the first one at most `firstWaitMs`, so a broker that
 * does not answer does not hold the boot; `stop` ends the retries, gives an attempt in flight
 * {@link BACKGROUND_START_STOP_WAIT_MS} to finish, then stops what exists (`stopParts`, also the
 * clean-up between failed attempts) and forgets the readiness component.
 */
export class BackgroundStart {
  private readonly stopping = new AbortController();
  private starting: Promise<void> = Promise.resolve();
  private begun = false;
  /** `stopParts` runs one at a time: the stop path's and a late attempt's clean-up never interleave. */
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly component: string,
    private readonly parts: {
      logger: MessagingLogger;
      attempt: () => Promise<void>;
      stopParts: () => Promise<void>;
      /** How long a stop waits for an attempt in flight (default {@link BACKGROUND_START_STOP_WAIT_MS}). */
      stopWaitMs?: number;
    },
  ) {}

  /** Starts the attempts (not after {@link stop}); waits for the first one at most `firstWaitMs`. */
  async begin(firstWaitMs = BACKGROUND_START_FIRST_WAIT_MS): Promise<void> {
    if (this.begun) throw new Error(`${this.component}: already started`);
    if (this.stopping.signal.aborted) return;
    this.begun = true;
    this.starting = startInBackground(this.component, this.parts.attempt, {
      logger: this.parts.logger,
      signal: this.stopping.signal,
      cleanup: () => this.stopPartsSerially(),
    });
    await settleBackgroundStart(this.starting, firstWaitMs);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (!this.begun) return;
    await settleBackgroundStart(this.starting, this.parts.stopWaitMs ?? BACKGROUND_START_STOP_WAIT_MS);
    await this.stopPartsSerially().catch((e: unknown) => this.parts.logger.warn(`${this.component} stop failed`, { error: errorMessage(e) }));
    forgetReadiness(this.component);
  }

  private stopPartsSerially(): Promise<void> {
    const run = this.stopped.then(this.parts.stopParts, this.parts.stopParts);
    this.stopped = run.catch(() => undefined);
    return run;
  }
}
