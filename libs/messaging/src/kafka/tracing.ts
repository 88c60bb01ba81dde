import { context, propagation, ROOT_CONTEXT, trace, type Context, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const w3c = new W3CTraceContextPropagator();

const setter = {
  set(carrier: Record<string, string>, key: string, value: string) {
    carrier[key] = value;
  },
};
const getter = {
  get(carrier: Record<string, string>, key: string) {
    return carrier[key];
  },
  keys(carrier: Record<string, string>) {
    return Object.keys(carrier);
  },
};

export const TRACER_NAME = '@flowline/messaging';

export function messagingTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Trace headers for `ctx` (default: the active context). Uses the globally registered propagator
 * (set by the observability lib) and falls back to W3C trace-context, so `traceparent` is written
 * even when no SDK configured a global propagator.
 */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, setter);
  if (!carrier.traceparent) w3c.inject(ctx, carrier, setter);
  return carrier;
}

/** The W3C traceparent of `ctx` (default: the active context), if it carries a valid span. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  return traceHeaders(ctx).traceparent;
}

/** Context whose remote parent is the given headers' `traceparent` (ROOT when absent or invalid). */
export function contextFromHeaders(headers: Record<string, string>, base: Context = ROOT_CONTEXT): Context {
  let ctx = propagation.extract(base, headers, getter);
  if (!trace.getSpanContext(ctx) && headers.traceparent) ctx = w3c.extract(base, headers, getter);
  return ctx;
}

/** Context continuing a stored traceparent (e.g. from an event's metadata). */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const headers: Record<string, string> = { traceparent };
  if (tracestate) headers.tracestate = tracestate;
  return contextFromHeaders(headers);
}
