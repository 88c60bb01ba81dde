import {
  collectDefaultMetrics,
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  register,
  type Registry,
} from 'prom-client';

/**
 * The registry `/metrics` serves: prom-client's default one, which the other libs (event store,
 * messaging) register their metrics on as well.
 */
export const metricsRegistry: Registry = register;

/** A metric every process exports once default metrics are on (used as the "already on" marker). */
const DEFAULT_METRIC_MARKER = 'process_cpu_user_seconds_total';

/**
 * `METRICS_EVENT_LOOP_PRECISION_MS` (default 100): how often the event-loop delay monitor samples.
 * prom-client's default of 10 ms wakes every idle process 100 times a second (about a hundred
 * context switches a second each, measured on an idle `npm start`). A delay that matters (tens of
 * milliseconds or more) still shows at 100 ms, since a blocked loop delays the next sample by as much.
 */
export function eventLoopPrecisionMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.METRICS_EVENT_LOOP_PRECISION_MS;
  if (raw === undefined || raw.trim() === '') return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`METRICS_EVENT_LOOP_PRECISION_MS must be a positive integer (ms), got "${raw}"`);
  return n;
}

/** prom-client's gauges read from its `monitorEventLoopDelay` histogram (stddev is not shifted by the interval). */
const LOOP_DELAY_GAUGES = ['min', 'max', 'mean', 'p50', 'p90', 'p99'].map((s) => `nodejs_eventloop_lag_${s}_seconds`);

/**
 * Node's `monitorEventLoopDelay` records the whole time between two of its timer ticks, the
 * sampling interval included, and prom-client reports that as is: an idle loop read about 10 ms
 * at its default precision and would read about 100 ms at ours. So each of those gauges takes the
 * interval off what prom-client sets (never below 0): they say how late the loop was, whatever the
 * precision. Nothing is changed when prom-client no longer registers them (the unit test's idle
 * reading then fails).
 */
function reportDelayBeyondInterval(registry: Registry, precisionMs: number): void {
  const gauges = LOOP_DELAY_GAUGES.map((name) => registry.getSingleMetric(name));
  if (!gauges.every((g): g is Gauge => g instanceof Gauge)) return;
  const interval = precisionMs / 1_000;
  for (const gauge of gauges) {
    const set = gauge.set.bind(gauge) as (labels: Record<string, string | number>, value: number) => void;
    gauge.set = ((labelsOrValue: Record<string, string | number> | number, value?: number) =>
      typeof labelsOrValue === 'number' ? set({}, Math.max(0, labelsOrValue - interval)) : set(labelsOrValue, Math.max(0, (value ?? 0) - interval))) as Gauge['set'];
  }
}

/** Starts prom-client's default process and Node.js metrics, once per registry. */
export function ensureDefaultMetrics(registry: Registry = metricsRegistry): void {
  if (registry.getSingleMetric(DEFAULT_METRIC_MARKER)) return;
  const precisionMs = eventLoopPrecisionMsFromEnv();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: precisionMs });
  reportDelayBeyondInterval(registry, precisionMs);
}

type AnyRegistry = Pick<Registry, 'getSingleMetric'>;
type MetricKind = 'Counter' | 'Gauge' | 'Histogram';

/**
 * Returns the metric registered under `name`, or creates it. Modules can be loaded twice in one
 * process (tests, bundles) and services boot several modules that want the same metric, so metrics
 * are defined by name, not held in module variables. A name taken by another kind is a bug: throws.
 */
function defineOnce<T>(kind: MetricKind, name: string, registry: AnyRegistry, create: () => T): T {
  const existing = registry.getSingleMetric(name);
  if (!existing) return create();
  const existingKind = existing.constructor.name;
  if (existingKind !== kind) throw new Error(`metric ${name} is already registered as a ${existingKind}, not a ${kind}`);
  return existing as T;
}

export function defineCounter<L extends string = string>(config: CounterConfiguration<L>): Counter<L> {
  const registry = config.registers?.[0] ?? metricsRegistry;
  return defineOnce('Counter', config.name, registry, () => new Counter<L>({ ...config, registers: [registry] }));
}

export function defineGauge<L extends string = string>(config: GaugeConfiguration<L>): Gauge<L> {
  const registry = config.registers?.[0] ?? metricsRegistry;
  return defineOnce('Gauge', config.name, registry, () => new Gauge<L>({ ...config, registers: [registry] }));
}

export function defineHistogram<L extends string = string>(config: HistogramConfiguration<L>): Histogram<L> {
  const registry = config.registers?.[0] ?? metricsRegistry;
  return defineOnce('Histogram', config.name, registry, () => new Histogram<L>({ ...config, registers: [registry] }));
}

/** The `/metrics` response: Prometheus text exposition of a registry. */
export async function metricsText(registry: Registry = metricsRegistry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export const HTTP_REQUEST_DURATION_METRIC = 'flowline_http_server_request_duration_seconds';

/** Latency of HTTP requests by method, route pattern (not the raw URL: bounded labels) and status. */
export function httpRequestDuration(): Histogram<'method' | 'route' | 'status_code'> {
  return defineHistogram({
    name: HTTP_REQUEST_DURATION_METRIC,
    help: 'HTTP server request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
}
