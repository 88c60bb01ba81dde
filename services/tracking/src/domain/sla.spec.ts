import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG, etaShipBy, isStuck, parseDuration, slaColour, slaConfigFromEnv, slaDeadlines, stuckAt } from './sla';

const at = (base: string, ms: number) => new Date(Date.parse(base) + ms).toISOString();
const H = 3_600_000;
const T = '2026-03-02T01:00:00.000Z';

describe('slaColour', () => {
  it('paid has 2 h: green below 80% (96 min), yellow from 96 to 120 min, red beyond', () => {
    expect(slaColour('paid', T, at(T, 0), DEFAULT_SLA_CONFIG)).toBe('green');
    expect(slaColour('paid', T, at(T, 96 * 60_000 - 1), DEFAULT_SLA_CONFIG)).toBe('green');
    expect(slaColour('paid', T, at(T, 96 * 60_000), DEFAULT_SLA_CONFIG)).toBe('yellow');
    expect(slaColour('stock_reserved', T, at(T, 2 * H), DEFAULT_SLA_CONFIG)).toBe('yellow');
    expect(slaColour('stock_reserved', T, at(T, 2 * H + 1), DEFAULT_SLA_CONFIG)).toBe('red');
  });

  it('awaiting_approval has 8 h and ready_to_ship -> shipped has 24 h', () => {
    expect(slaColour('awaiting_approval', T, at(T, 6.4 * H - 1), DEFAULT_SLA_CONFIG)).toBe('green');
    expect(slaColour('awaiting_approval', T, at(T, 6.4 * H), DEFAULT_SLA_CONFIG)).toBe('yellow');
    expect(slaColour('awaiting_approval', T, at(T, 8 * H + 1), DEFAULT_SLA_CONFIG)).toBe('red');
    expect(slaColour('ready_to_ship', T, at(T, 19 * H), DEFAULT_SLA_CONFIG)).toBe('green');
    expect(slaColour('packed', T, at(T, 20 * H), DEFAULT_SLA_CONFIG)).toBe('yellow');
    expect(slaColour('packed', T, at(T, 25 * H), DEFAULT_SLA_CONFIG)).toBe('red');
  });

  it('stages without a budget have no colour', () => {
    for (const s of ['placed', 'shipped', 'delivered', 'archived', 'cancelled', 'refunded'] as const) {
      expect(slaColour(s, T, at(T, 100 * H), DEFAULT_SLA_CONFIG)).toBe('none');
    }
  });

  it('follows a configured budget and threshold', () => {
    const config = slaConfigFromEnv({ TRACKING_SLA_PAID_TO_READY: '10m', TRACKING_SLA_YELLOW_AT: '0.5' });
    expect(slaColour('paid', T, at(T, 4 * 60_000), config)).toBe('green');
    expect(slaColour('paid', T, at(T, 5 * 60_000), config)).toBe('yellow');
    expect(slaColour('paid', T, at(T, 11 * 60_000), config)).toBe('red');
  });

  it('agrees with the stored deadlines the clock job compares against', () => {
    const config = slaConfigFromEnv({ TRACKING_SLA_PAID_TO_READY: '1001ms' });
    const d = slaDeadlines('paid', T, config)!;
    expect(slaColour('paid', T, at(d.yellowAt, -1), config)).toBe('green');
    expect(slaColour('paid', T, d.yellowAt, config)).toBe('yellow');
    expect(slaColour('paid', T, d.dueAt, config)).toBe('yellow');
    expect(slaColour('paid', T, at(d.dueAt, 1), config)).toBe('red');
  });
});

describe('stuck and ETA', () => {
  it('any working stage over 24 h is stuck; carrier, after-sales and terminal stages never are', () => {
    expect(stuckAt('placed', T)).toBe('2026-03-03T01:00:00.000Z');
    expect(isStuck('ready_to_ship', T, at(T, 24 * H - 1))).toBe(false);
    expect(isStuck('ready_to_ship', T, at(T, 24 * H))).toBe(true);
    expect(isStuck('shipped', T, at(T, 100 * H))).toBe(false);
    expect(isStuck('cancelled', T, at(T, 100 * H))).toBe(false);
  });

  it('estimates ship-by from the current segment and the mandatory ones after it', () => {
    expect(etaShipBy('paid', T)).toBe(at(T, 26 * H));
    expect(etaShipBy('awaiting_approval', T)).toBe(at(T, 32 * H));
    expect(etaShipBy('packed', T)).toBe(at(T, 24 * H));
    expect(etaShipBy('shipped', T)).toBeUndefined();
  });
});

describe('config', () => {
  it('parses durations', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('1.5h')).toBe(1.5 * H);
    expect(parseDuration('2500')).toBe(2500);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });

  it('keeps the defaults when nothing is set and refuses a bad threshold', () => {
    expect(slaConfigFromEnv({})).toEqual(DEFAULT_SLA_CONFIG);
    expect(() => slaConfigFromEnv({ TRACKING_SLA_YELLOW_AT: '2' })).toThrow(/YELLOW_AT/);
  });
});
