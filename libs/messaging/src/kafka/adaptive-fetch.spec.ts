import { describe, expect, it } from 'vitest';
import { nextFetch, patchKafkajsAdaptiveFetch } from './adaptive-fetch';

describe('adaptive fetch', () => {
  const settings = { minBytes: 32 * 1024, maxWaitMs: 50, idleMaxWaitMs: 1_000 };

  it('batches after a fetch that brought messages, and waits long for the first byte after an empty one', () => {
    expect(nextFetch(settings, 3)).toEqual({ minBytes: 32 * 1024, maxWaitTime: 50 });
    expect(nextFetch(settings, 0)).toEqual({ minBytes: 1, maxWaitTime: 1_000 });
  });

  it('recognises the installed kafkajs fetch (an upgrade that changes it would turn the adaptation off, and this says so)', () => {
    expect(patchKafkajsAdaptiveFetch()).toBe(true);
  });
});
