import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { countDbQueries } from './db-queries';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { BatchSpanProcessor, ConsoleSpanExporter, NoopSpanProcessor, ParentBasedSampler, type Sampler, SimpleSpanProcessor, type SpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';

/** Where finished spans go. */
export type TraceExporterKind = 'otlp' | 'console' | 'none';

/**
 * OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only variant) is set; the console
 * when `OTEL_DEBUG=1`; otherwise none. "none" still records spans (and so trace ids for logs and
 * Kafka headers), it only drops them when they end.
 */
export function selectTraceExporter(env: NodeJS.ProcessEnv = process.env): TraceExporterKind {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return 'otlp';
  if (env.OTEL_DEBUG === '1' || env.OTEL_DEBUG === 'true') return 'console';
  return 'none';
}

/**
 * Head sampling ratio of new traces: `OTEL_TRACES_SAMPLER_ARG` (0..1), default 1.0 (every trace,
 * dev and tests); the prod overlay sets 0.1. Out of range or not a number: 1.0.
 */
export function traceSampleRatio(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.OTEL_TRACES_SAMPLER_ARG;
  const n = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1;
}

/**
 * The sampler: ParentBased(TraceIdRatio(ratio)). A request that arrives with a sampled
 * traceparent (or a Kafka message whose producer sampled it) is kept, so one trace is kept or
 * dropped whole across services; new traces are kept at the ratio. An unsampled request still
 * gets a trace id (in its log lines and in the traceparent it sends on), it is only not recorded.
 * `OTEL_TRACES_SAMPLER` set to anything leaves the choice to the SDK's own reading of it.
 *
 * Errors: head sampling decides before the outcome is known, so an error in an unsampled trace
 * has no spans. What is always kept for it: the `request failed` warn line with its trace_id
 * (logRequest), and the error counters. To keep every error trace whole, run the SDK at 1.0 and
 * tail-sample in the OpenTelemetry Collector (tail_sampling with a status_code policy).
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv = process.env): Sampler | undefined {
  if (env.OTEL_TRACES_SAMPLER) return undefined;
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(traceSampleRatio(env)) });
}

/** Paths whose requests are not worth a span each (probes and scrapes, every few seconds). */
export const UNTRACED_PATHS: readonly string[] = ['/health/live', '/health/ready', '/metrics'];

export function isUntracedPath(url: string | undefined): boolean {
  if (!url) return false;
  const path = url.split('?', 1)[0];
  return UNTRACED_PATHS.includes(path);
}

/** W3C trace context + baggage: what `traceparent` in HTTP and Kafka headers means. */
export function w3cPropagator(): TextMapPropagator {
  return new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
}

/** The HTTP instrumentation every service uses: server and client spans, probes left out. */
export function httpInstrumentation(): HttpInstrumentation {
  return new HttpInstrumentation({
    ignoreIncomingRequestHook: (req: IncomingMessage) => isUntracedPath(req.url),
  });
}

/**
 * Instrumentations patch `http` when it is required. Modules loaded before the SDK started may
 * already hold it, so require it once more: the patch then applies to the shared module object
 * (Server.prototype.emit, request, get), which every holder sees.
 */
export function ensureHttpPatched(): void {
  const req = createRequire(join(process.cwd(), 'noop.js'));
  req('http');
  req('https');
}

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Overrides the choice made from the environment (tests). */
  exporter?: TraceExporterKind;
}

export interface TelemetryHandle {
  readonly serviceName: string;
  readonly exporter: TraceExporterKind;
  /** Head sampling ratio of new traces (see samplerFromEnv). */
  readonly sampleRatio: number;
  /** Flushes and stops span export. Idempotent. */
  shutdown(): Promise<void>;
}

const STATE = Symbol.for('flowline.observability.telemetry');
type Holder = { [STATE]?: TelemetryHandle };

/**
 * Starts OpenTelemetry for this process: AsyncLocalStorage context manager, W3C propagator, HTTP
 * instrumentation, a tracer provider with the exporter from {@link selectTraceExporter}.
 *
 * Call it before anything else loads: in `main.ts`, the FIRST import is `./instrument`, a file
 * that only calls `startTelemetry`, because instrumentations patch modules as they are loaded.
 * Idempotent per process: a second call returns the first handle.
 */
export function startTelemetry(options: TelemetryOptions): TelemetryHandle {
  const holder = globalThis as Holder;
  const existing = holder[STATE];
  if (existing) return existing;

  const exporter = options.exporter ?? selectTraceExporter();
  // A tracer provider and the one instrumentation we use, not @opentelemetry/sdk-node: its NodeSDK
  // loads every OTLP exporter (gRPC/proto/HTTP for traces, metrics and logs), Prometheus, Zipkin and
  // the resource detectors at require time: ~1.5 s of a cold start on a busy 2-core machine, for
  // nothing here (metrics go through prom-client, logs through pino).
  const sampler = samplerFromEnv();
  const provider = new NodeTracerProvider({
    ...(sampler ? { sampler } : {}),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    spanProcessors: [spanProcessorFor(exporter)],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: w3cPropagator() });
  const http = httpInstrumentation();
  http.setTracerProvider(provider);
  http.enable();
  ensureHttpPatched();
  // Round trips per service (flowline_db_queries_total): what the bench reports per order.
  countDbQueries();

  let stopped: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    serviceName: options.serviceName,
    exporter,
    sampleRatio: traceSampleRatio(),
    shutdown: () =>
      (stopped ??= (async () => {
        http.disable();
        await provider.shutdown();
      })().catch(() => undefined)),
  };
  holder[STATE] = handle;
  return handle;
}

/** The handle of the telemetry started in this process, if any. */
export function currentTelemetry(): TelemetryHandle | undefined {
  return (globalThis as Holder)[STATE];
}

/** The span processor for an exporter kind (exported for its test: the OTLP exporter is required on demand). */
export function spanProcessorFor(kind: TraceExporterKind): SpanProcessor {
  switch (kind) {
    case 'otlp': {
      // Required here, not imported at the top: the OTLP exporter brings otlp-transformer,
      // sdk-metrics and api-logs (125 modules, ~3 MiB of V8 heap in every process), and most runs
      // (dev, tests, the bench) export nothing. Reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT / _HEADERS itself.
      const { OTLPTraceExporter } = createRequire(__filename)('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new BatchSpanProcessor(new OTLPTraceExporter());
    }
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'none':
      return new NoopSpanProcessor();
  }
}
