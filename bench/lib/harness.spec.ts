import { describe, expect, it } from 'vitest';
import { percentile, round } from './harness';

describe('percentile (nearest rank)', () => {
  it('picks the nearest-rank value', () => {
    const v = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(v, 50)).toBe(5);
    expect(percentile(v, 90)).toBe(9);
    expect(percentile(v, 99)).toBe(10);
    expect(percentile(v, 0)).toBe(1);
  });
  it('is NaN for no values, the value for one', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([42], 99)).toBe(42);
  });
  it('rounds to the given digits', () => {
    expect(round(1.26, 1)).toBe(1.3);
    expect(round(1234.5678, 0)).toBe(1235);
  });
});
