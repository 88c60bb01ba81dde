import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ensureHttpPatched, httpInstrumentation, w3cPropagator } from '../telemetry';

const STATE = Symbol.for('flowline.observability.in-memory-tracing');
type Holder = { [STATE]?: { exporter: InMemorySpanExporter; provider: NodeTracerProvider } };

/**
 * For tests: records every finished span in memory, with the same context manager
 * (AsyncLocalStorage), W3C propagator and HTTP instrumentation as {@link startTelemetry}, so a
 * test can follow one trace HTTP -> append -> relay -> consume through `exporter.getFinishedSpans()`.
 *
 * Spans end synchronously into the exporter (SimpleSpanProcessor). Call it before booting the
 * app under test. Idempotent per process: a second call clears and returns the same exporter
 * (the global OpenTelemetry API can be registered only once per process).
 */
export function installInMemoryTracing(): InMemorySpanExporter {
  const holder = globalThis as Holder;
  const existing = holder[STATE];
  if (existing) {
    existing.exporter.reset();
    return existing.exporter;
  }
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // Replace whatever an earlier setup registered (e.g. a no-op default) rather than failing on it.
  trace.disable();
  context.disable();
  propagation.disable();
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: w3cPropagator() });
  // Instrumentations enable themselves on construction; bind this one to the provider explicitly.
  httpInstrumentation().setTracerProvider(provider);
  ensureHttpPatched();
  holder[STATE] = { exporter, provider };
  return exporter;
}
