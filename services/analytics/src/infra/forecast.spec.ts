import { describe, expect, it } from 'vitest';
import { forecastSeries, type PromotionCalendar } from '../domain/forecast';
import { mstlEtsModel, normalQuantile } from './mstl-model';
import { chinaPromotionCalendar } from './promotion-calendar';

/** Seeded PRNG (mulberry32) and Box-Muller normal noise: the same series on every run. */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const DAY = 86_400_000;
const daysFrom = (start: string, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(`${start}T00:00:00Z`) + i * DAY).toISOString().slice(0, 10));
// Monday .. Sunday: weekends sell half as much again.
const WEEKLY = [100, 90, 80, 90, 110, 150, 140];
const noPromotions: PromotionCalendar = () => null;

describe('14-day forecast (MSTL + ETS from @bsull/augurs) against the seasonal naive baseline', () => {
  // 20 weeks from Monday 2026-01-05: known weekly pattern + N(0, 8) noise.
  const days = daysFrom('2026-01-05', 140);
  const rnd = noise(19);
  const series = days.map((_, i) => Math.max(0, WEEKLY[i % 7] + 8 * rnd()));
  const future = daysFrom('2026-05-25', 14);

  it('beats the baseline on backtest sMAPE (last 4 weeks, rolling origin) and is the one used', () => {
    const f = forecastSeries({ series, days, futureDays: future, model: mstlEtsModel(), calendar: noPromotions, quantile: normalQuantile });
    expect(f.model.backtest?.smape).toBeLessThan(f.baseline.backtest.smape);
    expect(f.chosen).toBe('model');
    expect(f.point).toEqual(f.model.forecast?.point);
    expect(f.point).toHaveLength(14);
    // It learned the weekly shape: Saturdays ahead well above Wednesdays ahead.
    expect(f.point[5]).toBeGreaterThan(f.point[2] + 40);
    // Prediction intervals around every point.
    f.point.forEach((p, i) => {
      expect(f.lower[i]).toBeLessThan(p);
      expect(f.upper[i]).toBeGreaterThan(p);
    });
  });

  it('reports backtest errors that equal an independent recomputation', () => {
    const f = forecastSeries({ series, days, futureDays: future, model: mstlEtsModel(), calendar: noPromotions, quantile: normalQuantile });
    // Recomputed here from scratch: origins n-28, n-21, n-14, n-7, each fitted on what precedes it.
    const model = mstlEtsModel();
    let sm = 0;
    let sn = 0;
    let ap = 0;
    let an = 0;
    for (const origin of [112, 119, 126, 133]) {
      const fc = model.forecast(series.slice(0, origin), 7, 0.95).point.map((v) => Math.max(0, v));
      const naive = series.slice(origin - 7, origin);
      for (let h = 0; h < 7; h++) {
        const a = series[origin + h];
        sm += (200 * Math.abs(fc[h] - a)) / (Math.abs(a) + Math.abs(fc[h]));
        sn += (200 * Math.abs(naive[h] - a)) / (Math.abs(a) + Math.abs(naive[h]));
        ap += (100 * Math.abs(fc[h] - a)) / Math.abs(a);
        an++;
      }
    }
    expect(f.model.backtest?.origins).toEqual([112, 119, 126, 133]);
    expect(f.model.backtest?.smape).toBeCloseTo(sm / 28, 9);
    expect(f.model.backtest?.mape).toBeCloseTo(ap / an, 9);
    expect(f.baseline.backtest.smape).toBeCloseTo(sn / 28, 9);
  });

  it('falls back to the baseline on a series the model cannot beat (pure weekly repetition)', () => {
    const exact = days.map((_, i) => WEEKLY[i % 7]);
    const f = forecastSeries({ series: exact, days, futureDays: future, model: mstlEtsModel(), calendar: noPromotions, quantile: normalQuantile });
    expect(f.baseline.backtest.smape).toBe(0);
    expect(f.chosen).toBe('baseline');
    expect(f.point).toEqual([...WEEKLY, ...WEEKLY]);
  });

  it('takes promotion days as known inputs: a past 6.18 spike lifts the coming 6.18, not the days around it', () => {
    const longDays = daysFrom('2025-05-05', 400); // to 2026-06-08
    const r = noise(7);
    const calendar = chinaPromotionCalendar();
    const y = longDays.map((d, i) => Math.max(0, WEEKLY[i % 7] + 5 * r()) * (calendar(d) === 'mid_year_618' ? 3 : 1));
    const ahead = daysFrom('2026-06-09', 14);
    const f = forecastSeries({ series: y, days: longDays, futureDays: ahead, model: mstlEtsModel(), calendar, quantile: normalQuantile });
    expect(f.uplift.mid_year_618).toBeGreaterThan(2.5);
    expect(f.uplift.mid_year_618).toBeLessThan(3.5);
    const i618 = ahead.indexOf('2026-06-18'); // a Thursday: 90 a day normally
    expect(f.model.forecast?.point[i618]).toBeGreaterThan(200);
    expect(f.model.forecast?.point[i618 - 7]).toBeLessThan(130);
  });
});

describe('promotion calendar', () => {
  it('knows 11.11, 6.18 and the Spring Festival week from the lunar calendar', () => {
    const c = chinaPromotionCalendar();
    expect(c('2026-11-11')).toBe('double_11');
    expect(c('2026-06-18')).toBe('mid_year_618');
    expect(['2026-02-16', '2026-02-17', '2026-02-23'].map(c)).toEqual(['spring_festival', 'spring_festival', 'spring_festival']);
    expect(c('2026-02-24')).toBeNull();
    expect(c('2027-02-06')).toBe('spring_festival');
  });
});
