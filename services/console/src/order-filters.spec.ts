import { describe, expect, it } from 'vitest';
import { filtersFromUrl, filtersToUrl, placedRange } from '../web/src/order-filters';

const known = { channels: { jd: {}, taobao: {} }, stages: { paid: {}, packed: {} } };

describe("the Orders screen's filters live in the URL", () => {
  it('a reload reads back exactly what was set: search mode and text, channel, stage and the placed-date range', () => {
    const set = { mode: 'phoneTail' as const, q: '尾号1234', channel: 'jd', stage: 'paid', from: '2026-12-01', to: '2026-12-07' };
    const url = filtersToUrl(set).toString();
    expect(filtersFromUrl(new URLSearchParams(url), known)).toEqual(set);
    expect(filtersToUrl({ mode: 'auto', q: '  ' }).toString()).toBe('');
  });

  it('ignores what it does not know: an unknown channel or stage, a malformed day, an unknown mode', () => {
    expect(filtersFromUrl(new URLSearchParams('mode=x&channel=nope&stage=gone&from=2026-13-45&to=yesterday'), known)).toEqual({ mode: 'auto', q: '' });
  });

  it("asks tracking for orders placed from the first day's start to the end of the last day (inclusive), in Beijing time whatever the browser's zone", () => {
    const r = placedRange('2026-12-01', '2026-12-07');
    expect(r).toEqual({ from: '2026-11-30T16:00:00.000Z', to: '2026-12-07T16:00:00.000Z' });
    expect(placedRange(undefined, undefined)).toEqual({});
  });
});
