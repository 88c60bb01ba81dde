import { describe, expect, it } from 'vitest';
import { allowance, platformsOfChannel } from './stock-push.policy';

describe('stock push-back rules', () => {
  it('sends a channel ATP to the shops on its platform', () => {
    expect(platformsOfChannel('tmall')).toEqual(['taobao']);
    expect(platformsOfChannel('douyin')).toEqual(['douyin']);
    expect(platformsOfChannel('offline')).toEqual([]);
  });

  it('allows at most perSecond updates per shop in any second', () => {
    expect(allowance([], 10_000, 2)).toBe(2);
    expect(allowance([9_500], 10_000, 2)).toBe(1);
    expect(allowance([9_500, 9_900], 10_000, 2)).toBe(0);
    expect(allowance([8_700, 8_800], 10_000, 2)).toBe(2);
    // A margin past the second: the platform counts arrivals, which can bunch up.
    expect(allowance([8_900, 9_000], 10_000, 2)).toBe(0);
  });
});
