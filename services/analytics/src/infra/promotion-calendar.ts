import { Lunar } from 'lunar-javascript';
import type { PromotionCalendar, PromotionKind } from '../domain/forecast';

/**
 * The promotion / holiday calendar the forecast takes as known inputs: 11.11 (Double 11), 6.18,
 * and Spring Festival, from the lunar calendar (lunar-javascript): the eve and the six days after
 * New Year's Day (the public holiday week, when orders collapse and couriers stop).
 */
export function chinaPromotionCalendar(): PromotionCalendar {
  const festival = new Map<number, Set<string>>();
  const springFestival = (year: number): Set<string> => {
    let days = festival.get(year);
    if (!days) {
      const newYear = Date.parse(`${Lunar.fromYmd(year, 1, 1).getSolar().toYmd()}T00:00:00Z`);
      days = new Set(Array.from({ length: 8 }, (_, i) => new Date(newYear + (i - 1) * 86_400_000).toISOString().slice(0, 10)));
      festival.set(year, days);
    }
    return days;
  };
  return (day: string): PromotionKind | null => {
    const md = day.slice(5, 10);
    if (md === '11-11') return 'double_11';
    if (md === '06-18') return 'mid_year_618';
    if (springFestival(Number(day.slice(0, 4))).has(day)) return 'spring_festival';
    return null;
  };
}
