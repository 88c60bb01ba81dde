import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Histogram, register } from 'prom-client';
import { type NewEvent, WrongExpectedVersion } from './port';

/** Name of the append latency histogram on prom-client's default registry. */
export const APPEND_LATENCY_METRIC = 'flowline_eventstore_append_seconds';

type AppendLabels = 'adapter' | 'outcome';

/**
 * The append latency histogram, created on first use and registered once on the default registry.
 * Several copies of this module can be loaded in one process (test isolation, two bundles), so
 * it looks the metric up before creating it instead of keeping it in a module variable only.
 */
export function appendLatencyHistogram(): Histogram<AppendLabels> {
  const existing = register.getSingleMetric(APPEND_LATENCY_METRIC);
  if (existing) return existing as Histogram<AppendLabels>;
  return new Histogram<AppendLabels>({
    name: APPEND_LATENCY_METRIC,
    help: 'Latency of event store appends (one transaction each), by adapter and outcome',
    labelNames: ['adapter', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
}

/**
 * Copies the active trace context into each event's `metadata.traceparent` unless the caller set
 * one, so the relay can continue the trace that appended the event.
 */
export function withTraceparent(events: NewEvent[]): NewEvent[] {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const traceparent = carrier['traceparent'];
  if (!traceparent) return events;
  return events.map((e) => (e.metadata.traceparent ? e : { ...e, metadata: { ...e.metadata, traceparent } }));
}

/**
 * Runs one append inside an `eventstore.append` span (tracer `flowline-eventstore`), records
 * its latency, and hands `append` the events with their traceparent filled in.
 */
export function instrumentAppend<T>(
  adapter: string,
  streamId: string,
  events: NewEvent[],
  append: (events: NewEvent[]) => Promise<T>,
  extraAttributes: Record<string, string | number> = {},
): Promise<T> {
  const tracer = trace.getTracer('flowline-eventstore');
  return tracer.startActiveSpan(
    'eventstore.append',
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'eventstore.adapter': adapter,
        'eventstore.stream_id': streamId,
        'eventstore.event_count': events.length,
        ...extraAttributes,
      },
    },
    async (span) => {
      const stopTimer = appendLatencyHistogram().startTimer({ adapter });
      try {
        const result = await append(withTraceparent(events));
        stopTimer({ outcome: 'ok' });
        return result;
      } catch (error) {
        stopTimer({ outcome: error instanceof WrongExpectedVersion ? 'wrong_expected_version' : 'error' });
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
