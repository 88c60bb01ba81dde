import { describe, expect, it } from 'vitest';
import { isUntracedPath, selectTraceExporter } from './telemetry';
import { createLogger, logLevelFromEnv, logRequest } from './logger';

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

describe('logRequest', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (s: string) => void lines.push(JSON.parse(s)) };
    return { lines, logger: createLogger({ serviceName: 'svc', level: 'info', destination }) };
  };
  const line = { requestId: 'r1', method: 'GET', url: '/orders/1', route: '/orders/:id', statusCode: 200, durationMs: 1.234 };

  it('writes one line per request with id, route, status and duration', () => {
    const { lines, logger } = capture();
    logRequest(logger, line);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        req: { id: 'r1', method: 'GET', url: '/orders/1', route: '/orders/:id' },
        res: { statusCode: 200 },
        responseTime: 1.23,
      }),
    ]);
  });

  it('warns on server errors and stays quiet for probes and scrapes', () => {
    const { lines, logger } = capture();
    logRequest(logger, { ...line, statusCode: 503 });
    logRequest(logger, { ...line, url: '/health/ready' });
    logRequest(logger, { ...line, url: '/metrics' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'request failed' });
  });
});
