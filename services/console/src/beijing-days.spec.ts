import { describe, expect, it } from 'vitest';
import { addDays, beijingDay, beijingDayStart } from '../web/src/beijing-days';

describe('days in Beijing time (the console counts days as the services do)', () => {
  it('07:00 in Beijing is already today there, while UTC still says yesterday', () => {
    const sevenAmBeijing = Date.parse('2026-12-08T07:00:00+08:00');
    expect(new Date(sevenAmBeijing).toISOString().slice(0, 10)).toBe('2026-12-07');
    expect(beijingDay(sevenAmBeijing)).toBe('2026-12-08');
  });

  it('a Beijing day runs from its midnight to the next, exclusive', () => {
    expect(beijingDay(Date.parse('2026-12-08T00:00:00+08:00'))).toBe('2026-12-08');
    expect(beijingDay(Date.parse('2026-12-08T23:59:59.999+08:00'))).toBe('2026-12-08');
    expect(beijingDay(Date.parse('2026-12-09T00:00:00+08:00'))).toBe('2026-12-09');
  });

  it("a day's start is its Beijing midnight as an instant, whatever the process's own zone", () => {
    expect(beijingDayStart('2026-12-08')).toBe('2026-12-07T16:00:00.000Z');
    expect(beijingDay(Date.parse(beijingDayStart('2026-12-08')))).toBe('2026-12-08');
  });

  it('adds and subtracts whole days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-08', -90)).toBe('2026-09-09');
  });
});
