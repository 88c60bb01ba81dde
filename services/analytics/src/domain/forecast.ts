/**
 * Demand forecasting around a pluggable time-series model (MSTL + ETS from @bsull/augurs in
 * production, src/infra/mstl-model.ts): promotion days as known inputs, a rolling-origin backtest,
 * a seasonal-naive baseline beside it, and the model used only where it beats the baseline.
 * Pure: the model and the calendar come in as arguments.
 */

/** A fitted-and-predicted forecast of `horizon` steps with a prediction interval at `level`. */
export interface PointForecast {
  point: number[];
  lower: number[];
  upper: number[];
}

export interface ForecastModel {
  readonly name: string;
  /** Fits on `history` (one value per day, oldest first) and predicts `horizon` days. */
  forecast(history: number[], horizon: number, level: number): PointForecast;
}

/** Known promotion / holiday kinds; a day carries at most one. */
export type PromotionKind = 'double_11' | 'mid_year_618' | 'spring_festival';
export type PromotionCalendar = (day: string) => PromotionKind | null;

export const WEEK = 7;

/** Inverse CDF of the standard normal distribution (a maintained implementation is injected). */
export type NormalQuantile = (p: number) => number;

/** Two-sided z of an interval level, e.g. 0.95 -> 1.96. */
export const zOf = (quantile: NormalQuantile, level: number) => quantile(0.5 + level / 2);

/**
 * The seasonal naive baseline: each future day repeats the same weekday of the last week. Its
 * interval comes from the in-sample week-over-week errors, widening with each week ahead.
 */
export function seasonalNaive(quantile: NormalQuantile): ForecastModel {
  return {
    name: 'seasonal_naive',
    forecast(history, horizon, level) {
      const n = history.length;
      if (n < WEEK) throw new Error('seasonal naive needs at least one week of history');
      const residuals = history.slice(WEEK).map((y, i) => y - history[i]);
      const sigma = residuals.length ? Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / residuals.length) : 0;
      const z = zOf(quantile, level);
      const point: number[] = [];
      const lower: number[] = [];
      const upper: number[] = [];
      for (let h = 0; h < horizon; h++) {
        const p = history[n - WEEK + (h % WEEK)];
        const width = z * sigma * Math.sqrt(Math.floor(h / WEEK) + 1);
        point.push(p);
        lower.push(p - width);
        upper.push(p + width);
      }
      return { point, lower, upper };
    },
  };
}

/** Symmetric MAPE in percent: mean of 200 |F - A| / (|A| + |F|), a pair of zeros counting 0. */
export function smape(actual: number[], forecast: number[]): number {
  const terms = actual.map((a, i) => {
    const f = forecast[i];
    const d = Math.abs(a) + Math.abs(f);
    return d === 0 ? 0 : (200 * Math.abs(f - a)) / d;
  });
  return terms.reduce((s, t) => s + t, 0) / terms.length;
}

/** MAPE in percent over the days with non-zero actuals (null when there are none). */
export function mape(actual: number[], forecast: number[]): number | null {
  const terms = actual.flatMap((a, i) => (a === 0 ? [] : [(100 * Math.abs(forecast[i] - a)) / Math.abs(a)]));
  return terms.length ? terms.reduce((s, t) => s + t, 0) / terms.length : null;
}

export interface Backtest {
  model: string;
  /** Forecast origins, as indexes into the series (each forecasts the `step` days that follow). */
  origins: number[];
  actual: number[];
  forecast: number[];
  smape: number;
  mape: number | null;
  /** Root mean squared error of the backtest days (units per day): drives safety stock. */
  rmse: number;
}

/**
 * Rolling-origin backtest over the last `origins x step` days (default 4 x 7 = the last 4 weeks):
 * for each origin the model is fitted on everything before it and forecasts `step` days.
 */
export function backtest(series: number[], model: ForecastModel, options: { origins?: number; step?: number; level?: number } = {}): Backtest {
  const k = options.origins ?? 4;
  const step = options.step ?? WEEK;
  const n = series.length;
  if (n < k * step + WEEK) throw new Error(`a backtest of ${k} x ${step} days needs at least ${k * step + WEEK} days of history`);
  const origins = Array.from({ length: k }, (_, i) => n - k * step + i * step);
  const actual: number[] = [];
  const forecast: number[] = [];
  for (const o of origins) {
    const f = model.forecast(series.slice(0, o), step, options.level ?? 0.95);
    actual.push(...series.slice(o, o + step));
    forecast.push(...f.point.map((v) => Math.max(0, v)));
  }
  const rmse = Math.sqrt(actual.reduce((s, a, i) => s + (a - forecast[i]) ** 2, 0) / actual.length);
  return { model: model.name, origins, actual, forecast, smape: smape(actual, forecast), mape: mape(actual, forecast), rmse };
}

/**
 * Promotion days as known inputs around any model: past promotion days are replaced by the
 * median of the same weekday in up to four earlier ordinary weeks before fitting (so a spike
 * neither lifts the level nor the weekly pattern), each kind's uplift is the mean ratio of actual
 * to that replacement over its past occurrences (1 when never seen), and future promotion days
 * are the model's forecast times their kind's uplift.
 */
export function withPromotions(model: ForecastModel, days: string[], futureDays: string[], calendar: PromotionCalendar): ForecastModel & { uplift: Partial<Record<PromotionKind, number>> } {
  const uplift: Partial<Record<PromotionKind, number>> = {};
  return {
    name: model.name,
    uplift,
    forecast(history, horizon, level) {
      const kinds = days.slice(0, history.length).map(calendar);
      const cleaned = history.slice();
      const ratios = new Map<PromotionKind, number[]>();
      for (let t = 0; t < history.length; t++) {
        const kind = kinds[t];
        if (!kind) continue;
        const same: number[] = [];
        for (let w = 1; w <= 4 && t - w * WEEK >= 0; w++) if (!kinds[t - w * WEEK]) same.push(history[t - w * WEEK]);
        if (!same.length) continue;
        same.sort((a, b) => a - b);
        const base = same.length % 2 ? same[(same.length - 1) / 2] : (same[same.length / 2 - 1] + same[same.length / 2]) / 2;
        cleaned[t] = base;
        if (base > 0) ratios.set(kind, [...(ratios.get(kind) ?? []), history[t] / base]);
      }
      for (const [k, r] of ratios) uplift[k] = r.reduce((s, x) => s + x, 0) / r.length;
      const f = model.forecast(cleaned, horizon, level);
      // The future days of this fit: the ones right after the history.
      const ahead = [...days.slice(history.length), ...futureDays].slice(0, horizon);
      const factor = ahead.map((d) => {
        const k = calendar(d);
        return k ? (uplift[k] ?? 1) : 1;
      });
      return { point: f.point.map((v, i) => v * factor[i]), lower: f.lower.map((v, i) => v * factor[i]), upper: f.upper.map((v, i) => v * factor[i]) };
    },
  };
}

export interface SkuForecast {
  horizon: number;
  level: number;
  days: string[];
  /** The forecast used: the model's where its backtest sMAPE beats the baseline's, else the baseline's. Never negative. */
  chosen: 'model' | 'baseline';
  point: number[];
  lower: number[];
  upper: number[];
  model: { name: string; forecast: PointForecast | null; backtest: Backtest | null; error: string | null };
  baseline: { name: string; forecast: PointForecast; backtest: Backtest };
  uplift: Partial<Record<PromotionKind, number>>;
}

/**
 * Forecasts one daily series `horizon` days past its last day. `days` are the series' dates
 * (YYYY-MM-DD), `futureDays` the `horizon` dates after them. Needs at least 6 weeks of history
 * (2 to fit, 4 to backtest); with less, or when the model fails, the baseline is used.
 */
export function forecastSeries(input: {
  series: number[];
  days: string[];
  futureDays: string[];
  model: ForecastModel;
  calendar: PromotionCalendar;
  quantile: NormalQuantile;
  horizon?: number;
  level?: number;
}): SkuForecast {
  const horizon = input.horizon ?? 14;
  const level = input.level ?? 0.95;
  const clamp = (f: PointForecast): PointForecast => ({ point: f.point.map((v) => Math.max(0, v)), lower: f.lower.map((v) => Math.max(0, v)), upper: f.upper.map((v) => Math.max(0, v)) });
  const baseline = seasonalNaive(input.quantile);
  const baseFc = clamp(baseline.forecast(input.series, horizon, level));
  const baseBt = backtest(input.series, baseline, { level });
  const promo = withPromotions(input.model, input.days, input.futureDays, input.calendar);
  let model: SkuForecast['model'] = { name: input.model.name, forecast: null, backtest: null, error: null };
  if (input.series.length < 6 * WEEK) {
    model.error = 'fewer than 6 weeks of history';
  } else {
    try {
      const bt = backtest(input.series, promo, { level });
      model = { name: input.model.name, forecast: clamp(promo.forecast(input.series, horizon, level)), backtest: bt, error: null };
    } catch (e) {
      model.error = (e as Error).message;
    }
  }
  const useModel = model.forecast !== null && model.backtest !== null && model.backtest.smape < baseBt.smape;
  const chosen = useModel && model.forecast ? model.forecast : baseFc;
  return {
    horizon,
    level,
    days: input.futureDays.slice(0, horizon),
    chosen: useModel ? 'model' : 'baseline',
    ...chosen,
    model,
    baseline: { name: baseline.name, forecast: baseFc, backtest: baseBt },
    uplift: { ...promo.uplift },
  };
}
