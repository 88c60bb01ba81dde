/**
 * What this process's background workers (consumers, relays, dedicated connections) can do right
 * now. A worker that cannot reach its database or broker reports itself down; readiness (the
 * platform's /health/ready) goes red until it reports up again. Liveness never looks here: a
 * restart does not bring a database back.
 *
 * Kept on globalThis: several copies of this module may be loaded (tests, hot reloads).
 */
export interface ComponentState {
  ready: boolean;
  /** Why it is not ready (the last infrastructure error). */
  reason?: string;
  /** ISO time of the last change. */
  since: string;
}

const KEY = Symbol.for('flowline.messaging.readiness');

function registry(): Map<string, ComponentState> {
  const g = globalThis as unknown as Record<symbol, Map<string, ComponentState> | undefined>;
  return (g[KEY] ??= new Map());
}

/** Reports a component up (`ready`) or down with the reason. Cheap: call it on every outcome. */
export function reportReadiness(component: string, ready: boolean, reason?: string): void {
  const map = registry();
  const prev = map.get(component);
  if (prev && prev.ready === ready && (ready || prev.reason === reason)) return;
  map.set(component, { ready, ...(ready ? {} : { reason }), since: new Date().toISOString() });
}

/** Forgets a component (stopped on purpose). */
export function forgetReadiness(component: string): void {
  registry().delete(component);
}

/** Snapshot of every reported component. */
export function componentReadiness(): Record<string, ComponentState> {
  return Object.fromEntries(registry());
}

/** Components currently down, with their reasons. */
export function componentsNotReady(prefix = ''): Record<string, ComponentState> {
  return Object.fromEntries([...registry()].filter(([k, v]) => !v.ready && k.startsWith(prefix)));
}

const FATAL_KEY = Symbol.for('flowline.messaging.fatal');

/**
 * What the process does when a background worker gives up for good (kafkajs does not restart a
 * consumer after a non-retriable crash, e.g. "Failed to find group coordinator" during a broker
 * restart): set by a service's bootstrap to restart the process (libs/platform), so the
 * orchestrator starts it again and the worker with it. Unset (tests, tools): only logged.
 */
export function setFatalHandler(handler: ((component: string, error: unknown) => void) | undefined): void {
  (globalThis as unknown as Record<symbol, unknown>)[FATAL_KEY] = handler;
}

/** Reports a worker that gave up to the process's fatal handler, if one is set. */
export function reportFatal(component: string, error: unknown): void {
  const handler = (globalThis as unknown as Record<symbol, ((component: string, error: unknown) => void) | undefined>)[FATAL_KEY];
  handler?.(component, error);
}
