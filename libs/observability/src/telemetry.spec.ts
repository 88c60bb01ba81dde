import { describe, expect, it } from 'vitest';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { isUntracedPath, samplerFromEnv, selectTraceExporter, spanProcessorFor, traceSampleRatio } from './telemetry';
import { createLogger, logLevelFromEnv, logRequest, requestLogPolicyFromEnv } from './logger';

describe('selectTraceExporter', () => {
  it('exports over OTLP/HTTP when an OTLP endpoint is configured', () => {
    expect(selectTraceExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('otlp');
    expect(selectTraceExporter({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe('otlp');
  });

  it('prefers OTLP over the console when both are asked for', () => {
    expect(selectTraceExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_DEBUG: '1' })).toBe('otlp');
  });

  it('prints spans to the console only with OTEL_DEBUG=1', () => {
    expect(selectTraceExporter({ OTEL_DEBUG: '1' })).toBe('console');
    expect(selectTraceExporter({ OTEL_DEBUG: '0' })).toBe('none');
  });

  it('exports nothing by default', () => {
    expect(selectTraceExporter({})).toBe('none');
  });

  it('builds the OTLP batch processor from the exporter required on demand (not loaded at import)', async () => {
    const processor = spanProcessorFor('otlp');
    expect(processor.constructor.name).toBe('BatchSpanProcessor');
    expect((processor as unknown as { _exporter: object })._exporter.constructor.name).toBe('OTLPTraceExporter');
    await processor.shutdown();
  });
});

describe('isUntracedPath', () => {
  it('leaves health probes and metric scrapes untraced, query string or not', () => {
    expect(isUntracedPath('/health/live')).toBe(true);
    expect(isUntracedPath('/health/ready?verbose=1')).toBe(true);
    expect(isUntracedPath('/metrics')).toBe(true);
  });

  it('traces everything else', () => {
    expect(isUntracedPath('/orders')).toBe(false);
    expect(isUntracedPath('/metrics/extra')).toBe(false);
    expect(isUntracedPath(undefined)).toBe(false);
  });
});

describe('logLevelFromEnv', () => {
  it('takes LOG_LEVEL when it names a pino level, in any case', () => {
    expect(logLevelFromEnv({ LOG_LEVEL: 'debug' })).toBe('debug');
    expect(logLevelFromEnv({ LOG_LEVEL: 'WARN' })).toBe('warn');
    expect(logLevelFromEnv({ LOG_LEVEL: 'silent' })).toBe('silent');
  });

  it('falls back to info for a missing or unknown level', () => {
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toBe('info');
  });
});

describe('logRequest', () => {
  const capture = (level: 'info' | 'debug' = 'info') => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (s: string) => void lines.push(JSON.parse(s)) };
    return { lines, logger: createLogger({ serviceName: 'svc', level, destination }) };
  };
  const line = { requestId: 'r1', method: 'GET', url: '/orders/1', route: '/orders/:id', statusCode: 200, durationMs: 1.234 };
  const policy = { slowMs: 500, sampleRatio: 0 };

  it('writes a fast successful request at debug, with id, route, status and duration', () => {
    const { lines, logger } = capture('debug');
    logRequest(logger, line, policy);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'debug',
        msg: 'request completed',
        req: { id: 'r1', method: 'GET', url: '/orders/1', route: '/orders/:id' },
        res: { statusCode: 200 },
        responseTime: 1.23,
      }),
    ]);
  });

  it('writes nothing for a fast successful request at info', () => {
    const { lines, logger } = capture('info');
    logRequest(logger, line, policy);
    expect(lines).toEqual([]);
  });

  it('writes refusals and slow requests at info', () => {
    const { lines, logger } = capture('info');
    logRequest(logger, { ...line, statusCode: 422 }, policy);
    logRequest(logger, { ...line, durationMs: 750 }, policy);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'request refused', res: { statusCode: 422 } }),
      expect.objectContaining({ level: 'info', msg: 'slow request', responseTime: 750 }),
    ]);
  });

  it('writes the sampled share of the other requests at info', () => {
    const { lines, logger } = capture('info');
    const draws = [0.05, 0.5, 0.09, 0.95];
    const sampled = { slowMs: 500, sampleRatio: 0.1, random: () => draws.shift() ?? 1 };
    for (let i = 0; i < 4; i++) logRequest(logger, { ...line, requestId: `r${i}` }, sampled);
    expect(lines.map((l) => [l.level, (l.req as { id: string }).id, l.sampled])).toEqual([
      ['info', 'r0', true],
      ['info', 'r2', true],
    ]);
  });

  it('warns on server errors and stays quiet for probes and scrapes', () => {
    const { lines, logger } = capture('debug');
    logRequest(logger, { ...line, statusCode: 503 }, policy);
    logRequest(logger, { ...line, url: '/health/ready' }, policy);
    logRequest(logger, { ...line, url: '/metrics' }, policy);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'request failed' });
  });

  it('reads the policy from LOG_SLOW_REQUEST_MS and LOG_REQUEST_SAMPLE', () => {
    expect(requestLogPolicyFromEnv({})).toEqual({ slowMs: 1_000, sampleRatio: 0 });
    expect(requestLogPolicyFromEnv({ LOG_SLOW_REQUEST_MS: '250', LOG_REQUEST_SAMPLE: '0.01' })).toEqual({ slowMs: 250, sampleRatio: 0.01 });
    expect(requestLogPolicyFromEnv({ LOG_SLOW_REQUEST_MS: 'x', LOG_REQUEST_SAMPLE: '7' })).toEqual({ slowMs: 1_000, sampleRatio: 1 });
  });
});

describe('trace sampling', () => {
  it('reads the head sampling ratio from OTEL_TRACES_SAMPLER_ARG, 1.0 by default or when invalid', () => {
    expect(traceSampleRatio({})).toBe(1);
    expect(traceSampleRatio({ OTEL_TRACES_SAMPLER_ARG: '0.1' })).toBe(0.1);
    expect(traceSampleRatio({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toBe(1);
    expect(traceSampleRatio({ OTEL_TRACES_SAMPLER_ARG: 'half' })).toBe(1);
  });

  it('samples new traces at the ratio and follows a sampled or unsampled parent', () => {
    const none = samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: '0' });
    const all = samplerFromEnv({});
    expect(none && all).toBeTruthy();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const root = (s: NonNullable<typeof none>) => s.shouldSample(ROOT_CONTEXT, traceId, 'GET /x', SpanKind.SERVER, {}, []).decision;
    expect(root(none!)).toBe(SamplingDecision.NOT_RECORD);
    expect(root(all!)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    const parent = (flags: number) => trace.setSpanContext(context.active(), { traceId, spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true });
    expect(none!.shouldSample(parent(TraceFlags.SAMPLED), traceId, 'consume', SpanKind.CONSUMER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(all!.shouldSample(parent(TraceFlags.NONE), traceId, 'consume', SpanKind.CONSUMER, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('leaves the choice to the SDK when OTEL_TRACES_SAMPLER is set', () => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  });
});
