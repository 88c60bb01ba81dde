import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { bufferedRandom, ulidFactory } from './ids';

describe('ids', () => {
  it('draws values in [0, 1) across refills of its buffer', () => {
    const r = bufferedRandom(8);
    const xs = Array.from({ length: 100 }, () => r());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(10);
  });

  it('makes unique, ordered ULIDs stamped with the current time', () => {
    const next = ulidFactory();
    const ids = Array.from({ length: 5000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect(Math.abs(decodeTime(ids[0]) - Date.now())).toBeLessThan(60_000);
  });
});
