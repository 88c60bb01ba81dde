import ConsumerGroup from 'kafkajs/src/consumer/consumerGroup.js';

/*
 * Adaptive fetch for batching consumers. A consumer that asks the broker to hold each fetch for
 * `minBytes` (up to `maxWaitTimeInMs`) batches well under load, but at idle every fetch waits the
 * whole `maxWaitTimeInMs` and comes back empty: tracking's 50 ms wait meant 20 fetches a second over
 * 60 partitions, ~26 ms/s of its CPU and ~21 ms/s of the broker's on an idle system (measured,
 * session 12). Adaptive fetch keeps the batching while data flows and stops the spinning when it
 * does not:
 * - after a fetch that brought messages: the next waits for `minBytes` up to `maxWaitTimeInMs`
 *   (the consumer's own settings: batching, as before);
 * - after a fetch that brought nothing: the next waits up to `idleMaxWaitMs` for the first byte
 *   (minBytes 1), so an idle consumer fetches about once a second, and the first message after a
 *   quiet spell is answered at once instead of after the batching wait.
 *
 * kafkajs reads `minBytes` and `maxWaitTime` from its ConsumerGroup on every fetch (and sizes the
 * request timeout from that fetch's wait), but has no option for this, so `ConsumerGroup.fetch`
 * is wrapped once. The wrapper only switches the two fields after each fetch, for groups
 * registered here; every other group fetches as kafkajs would. Applied only when kafkajs' fetch
 * still reads those fields, so an upgraded kafkajs is left alone (the consumer then fetches with
 * its batching settings all the time, as before).
 */

export interface AdaptiveFetch {
  /** Bytes a fetch waits for while data flows (the consumer's `minBytes`, > 1). */
  minBytes: number;
  /** Longest wait of a fetch while data flows (the consumer's `maxWaitTimeInMs`). */
  maxWaitMs: number;
  /** Longest wait for the first byte after an empty fetch. */
  idleMaxWaitMs: number;
}

interface GroupFetchState {
  groupId: string;
  minBytes: number;
  maxWaitTime: number;
}

const registry = new Map<string, { settings: AdaptiveFetch; refs: number }>();
const PATCHED = Symbol.for('flowline.kafkajs.adaptiveFetchPatched');

/**
 * The settings of the fetch after one that brought `messages` messages: batching while data
 * flows, a long wait for the first byte once a fetch came back empty.
 */
export function nextFetch(settings: AdaptiveFetch, messages: number): { minBytes: number; maxWaitTime: number } {
  return messages > 0 ? { minBytes: settings.minBytes, maxWaitTime: settings.maxWaitMs } : { minBytes: 1, maxWaitTime: settings.idleMaxWaitMs };
}

/** Wraps kafkajs' ConsumerGroup.fetch once; false when this kafkajs does not fetch the way the wrapper expects. */
export function patchKafkajsAdaptiveFetch(): boolean {
  const proto = ConsumerGroup.prototype as unknown as Record<symbol, boolean> & { fetch(this: GroupFetchState, nodeId: number): Promise<{ messages: unknown[] }[]> };
  if (proto[PATCHED]) return true;
  const source = proto.fetch.toString();
  if (!source.includes('minBytes: this.minBytes') || !source.includes('maxWaitTime: this.maxWaitTime')) return false;
  const original = proto.fetch;
  proto.fetch = async function fetch(this: GroupFetchState, nodeId: number) {
    const batches = await original.call(this, nodeId);
    const entry = registry.get(this.groupId);
    if (entry) {
      const next = nextFetch(
        entry.settings,
        batches.reduce((n, b) => n + b.messages.length, 0),
      );
      this.minBytes = next.minBytes;
      this.maxWaitTime = next.maxWaitTime;
    }
    return batches;
  };
  proto[PATCHED] = true;
  return true;
}

/**
 * Fetches of consumer group `groupId` in this process adapt as described above until the returned
 * function is called (instances of one group in one process share the settings; the last to stop
 * removes them). Returns null when kafkajs could not be patched.
 */
export function adaptFetches(groupId: string, settings: AdaptiveFetch): (() => void) | null {
  if (!patchKafkajsAdaptiveFetch()) return null;
  const entry = registry.get(groupId);
  if (entry) entry.refs++;
  else registry.set(groupId, { settings, refs: 1 });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const e = registry.get(groupId);
    if (e && --e.refs === 0) registry.delete(groupId);
  };
}
