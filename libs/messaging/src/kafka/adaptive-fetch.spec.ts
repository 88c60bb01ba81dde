import { describe, expect, it } from 'vitest';
import { adaptFetches, adaptiveFetch, nextFetch, patchKafkajsAdaptiveFetch, type GroupFetchState } from './adaptive-fetch';

/** A stand-in for kafkajs' ConsumerGroup: `fetch` answers with the next queued message counts. */
function fakeGroup(groupId: string, minBytes: number, maxWaitTime: number) {
  const answers: number[] = [];
  const seen: { minBytes: number; maxWaitTime: number }[] = [];
  const fetch = adaptiveFetch(async function (this: GroupFetchState) {
    seen.push({ minBytes: this.minBytes, maxWaitTime: this.maxWaitTime });
    const n = answers.shift() ?? 0;
    return n > 0 ? [{ messages: Array.from({ length: n }, () => ({})) }, { messages: [] }] : [{ messages: [] }];
  });
  const group: GroupFetchState = { groupId, minBytes, maxWaitTime };
  return {
    group,
    seen,
    async fetchAnswering(...counts: number[]) {
      answers.push(...counts);
      for (let i = 0; i < counts.length; i++) await fetch.call(group, 0);
    },
  };
}

describe('adaptive fetch', () => {
  const settings = { minBytes: 32 * 1024, maxWaitMs: 50, idleMaxWaitMs: 1_000 };

  it('batches after a fetch that brought messages, and waits long for the first byte after an empty one (never shorter than the batching wait)', () => {
    expect(nextFetch(settings, 3)).toEqual({ minBytes: 32 * 1024, maxWaitTime: 50 });
    expect(nextFetch(settings, 0)).toEqual({ minBytes: 1, maxWaitTime: 1_000 });
    expect(nextFetch({ ...settings, maxWaitMs: 5_000 }, 0)).toEqual({ minBytes: 1, maxWaitTime: 5_000 });
  });

  it('switches a registered group between its own batching settings and first-byte mode, fetch by fetch', async () => {
    const release = adaptFetches('g-switch', { idleMaxWaitMs: 1_000 });
    const g = fakeGroup('g-switch', 64 * 1024, 250);
    await g.fetchAnswering(0, 0, 5, 0, 2);
    expect(g.seen).toEqual([
      { minBytes: 64 * 1024, maxWaitTime: 250 }, // as constructed
      { minBytes: 1, maxWaitTime: 1_000 }, // after an empty fetch
      { minBytes: 1, maxWaitTime: 1_000 },
      { minBytes: 64 * 1024, maxWaitTime: 250 }, // after 5 messages: its own batching again
      { minBytes: 1, maxWaitTime: 1_000 },
    ]);
    expect(g.group).toMatchObject({ minBytes: 64 * 1024, maxWaitTime: 250 });
    release?.();
  });

  it('leaves unregistered groups and instances that already answer at the first byte alone; two instances of one group keep their own settings', async () => {
    const other = fakeGroup('g-unregistered', 64 * 1024, 250);
    await other.fetchAnswering(0, 0);
    expect(other.seen.every((s) => s.minBytes === 64 * 1024 && s.maxWaitTime === 250)).toBe(true);

    const release = adaptFetches('g-shared', { idleMaxWaitMs: 1_000 });
    const plain = fakeGroup('g-shared', 1, 100);
    const small = fakeGroup('g-shared', 16 * 1024, 20);
    await plain.fetchAnswering(0, 3, 0);
    await small.fetchAnswering(0, 3);
    expect(plain.seen.every((s) => s.minBytes === 1 && s.maxWaitTime === 100)).toBe(true);
    expect(small.group).toMatchObject({ minBytes: 16 * 1024, maxWaitTime: 20 });
    release?.();
  });

  it('counts registrations: the group adapts until the last consumer releases it; releasing twice changes nothing', async () => {
    const a = adaptFetches('g-refs', { idleMaxWaitMs: 1_000 });
    const b = adaptFetches('g-refs', { idleMaxWaitMs: 1_000 });
    a?.();
    a?.();
    const stillAdapted = fakeGroup('g-refs', 64 * 1024, 250);
    await stillAdapted.fetchAnswering(0);
    expect(stillAdapted.group.minBytes).toBe(1);
    b?.();
    const released = fakeGroup('g-refs', 64 * 1024, 250);
    await released.fetchAnswering(0);
    expect(released.group.minBytes).toBe(64 * 1024);
  });

  it('recognises the installed kafkajs fetch (an upgrade that changes it would turn the adaptation off, and this says so)', () => {
    expect(patchKafkajsAdaptiveFetch()).toBe(true);
  });
});
