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
 * registered here; every other group fetches as kafkajs would. The mode is per consumer group
 * instance, not per broker: with several brokers, one broker's empty answer can put the group in
 * first-byte mode while another still has data, which costs some batching, never a message. Applied only when kafkajs' fetch
 * still reads those fields, so an upgraded kafkajs is left alone (the consumer then fetches with
 * its batching settings all the time, as before).
 */

export interface AdaptiveFetch {
  /** Bytes a fetch waits for while data flows (the consumer's `minBytes`, > 1). */
  minBytes: number;
  /** Longest wait of a fetch while data flows (the consumer's `maxWaitTimeInMs`). */
  maxWaitMs: number;
  /** Longest wait for the first byte after an empty fetch (never shorter than `maxWaitMs`). */
  idleMaxWaitMs: number;
}

/** The fields of a kafkajs ConsumerGroup the wrapper reads and switches. */
export interface GroupFetchState {
  groupId: string;
  minBytes: number;
  maxWaitTime: number;
}

type Fetch<T extends GroupFetchState> = (this: T, nodeId: number) => Promise<{ messages: unknown[] }[]>;

/*
 * Groups adapted in this process, with their idle wait and how many consumers registered them.
 * Kept on globalThis (like the patch marker): a second copy of this module (sources and a build in
 * one process) must see the groups the first registered, since only one wrapper is installed.
 */
const REGISTRY = Symbol.for('flowline.kafkajs.adaptiveFetchGroups');
const registry: Map<string, { idleMaxWaitMs: number; refs: number }> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map()) as Map<
  string,
  { idleMaxWaitMs: number; refs: number }
>;
const PATCHED = Symbol.for('flowline.kafkajs.adaptiveFetchPatched');

/**
 * The settings of the fetch after one that brought `messages` messages: batching while data
 * flows, a long wait for the first byte once a fetch came back empty.
 */
export function nextFetch(settings: AdaptiveFetch, messages: number): { minBytes: number; maxWaitTime: number } {
  return messages > 0
    ? { minBytes: settings.minBytes, maxWaitTime: settings.maxWaitMs }
    : { minBytes: 1, maxWaitTime: Math.max(settings.idleMaxWaitMs, settings.maxWaitMs) };
}

/**
 * `original` (kafkajs' ConsumerGroup.fetch) with adaptation for registered groups. Each consumer
 * group instance keeps its own batching settings, read before its first adapted fetch, so two
 * consumers of one group with different settings each go back to their own; an instance whose
 * own `minBytes` is 1 already answers at the first byte and is left alone.
 */
export function adaptiveFetch<T extends GroupFetchState>(original: Fetch<T>): Fetch<T> {
  const own = new WeakMap<T, { minBytes: number; maxWaitTime: number }>();
  return async function fetch(this: T, nodeId: number) {
    const group = registry.get(this.groupId);
    let batching = own.get(this);
    if (group && !batching) {
      batching = { minBytes: this.minBytes, maxWaitTime: this.maxWaitTime };
      own.set(this, batching);
    }
    const batches = await original.call(this, nodeId);
    if (group && batching && batching.minBytes > 1) {
      const next = nextFetch(
        { minBytes: batching.minBytes, maxWaitMs: batching.maxWaitTime, idleMaxWaitMs: group.idleMaxWaitMs },
        batches.reduce((n, b) => n + b.messages.length, 0),
      );
      this.minBytes = next.minBytes;
      this.maxWaitTime = next.maxWaitTime;
    }
    return batches;
  };
}

/** Wraps kafkajs' ConsumerGroup.fetch once; false when this kafkajs does not fetch the way the wrapper expects. */
export function patchKafkajsAdaptiveFetch(): boolean {
  const proto = ConsumerGroup.prototype as unknown as Record<symbol, boolean> & { fetch: Fetch<GroupFetchState> };
  if (proto[PATCHED]) return true;
  const source = proto.fetch.toString();
  if (!source.includes('minBytes: this.minBytes') || !source.includes('maxWaitTime: this.maxWaitTime')) return false;
  proto.fetch = adaptiveFetch(proto.fetch);
  proto[PATCHED] = true;
  return true;
}

/**
 * Fetches of consumer group `groupId` in this process adapt as described above until the returned
 * function is called (instances of one group share the idle wait of the first to register; the
 * last to release removes the group; releasing twice is harmless). Null when kafkajs could not be
 * patched.
 */
export function adaptFetches(groupId: string, settings: { idleMaxWaitMs: number }): (() => void) | null {
  if (!patchKafkajsAdaptiveFetch()) return null;
  const entry = registry.get(groupId);
  if (entry) entry.refs++;
  else registry.set(groupId, { idleMaxWaitMs: settings.idleMaxWaitMs, refs: 1 });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const e = registry.get(groupId);
    if (e && --e.refs === 0) registry.delete(groupId);
  };
}
