import { backoffDelay, sleep } from './backoff';
import { errorMessage, type MessagingLogger } from './logger';
import { reportReadiness } from './readiness';

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
  return (async () => {
    for (let n = 0; !options.signal.aborted; n++) {
      try {
        await attempt();
        reportReadiness(component, true);
        return;
      } catch (e) {
        reportReadiness(component, false, errorMessage(e));
        options.logger.warn(`${component} could not start; retrying`, { attempt: n + 1, error: errorMessage(e) });
        await options.cleanup?.().catch(() => undefined);
        if (!(await sleep(backoffDelay(n, { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 }), options.signal))) return;
      }
    }
  })();
}
