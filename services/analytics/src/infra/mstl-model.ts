import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initSync, MSTL } from '@bsull/augurs/mstl';
import quantile from '@stdlib/stats-base-dists-normal-quantile';
import type { ForecastModel, NormalQuantile } from '../domain/forecast';

let ready = false;

function init(): void {
  if (ready) return;
  // The package's loader fetches its .wasm by URL (browser style); in Node we hand it the bytes.
  const dir = dirname(require.resolve('@bsull/augurs/mstl'));
  initSync({ module: readFileSync(join(dir, 'mstl_bg.wasm')) });
  ready = true;
}

/**
 * MSTL (multiple seasonal-trend decomposition by LOESS) with an ETS model of the trend, from
 * @bsull/augurs (Grafana's augurs, Rust compiled to WebAssembly): weekly seasonality, prediction
 * intervals from the ETS state-space model.
 */
export function mstlEtsModel(periods: number[] = [7]): ForecastModel {
  init();
  return {
    name: 'mstl_ets',
    forecast(history, horizon, level) {
      const model = MSTL.ets(periods);
      try {
        model.fit(history);
        const f = model.predict(horizon, level);
        if (!f.intervals) throw new Error('MSTL returned no prediction intervals');
        return { point: f.point, lower: f.intervals.lower, upper: f.intervals.upper };
      } finally {
        model.free();
      }
    },
  };
}

/** Standard normal quantile from @stdlib. */
export const normalQuantile: NormalQuantile = (p) => quantile(p, 0, 1);
