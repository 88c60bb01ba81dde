import { describe, expect, it } from 'vitest';
import { isUntracedPath, selectTraceExporter } from './telemetry';
import { logLevelFromEnv } from './logger';

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
