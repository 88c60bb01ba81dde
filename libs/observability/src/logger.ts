import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { isUntracedPath } from './telemetry';

/** Field names of the trace correlation on every log line (what log backends index). */
export interface TraceFields {
  trace_id?: string;
  span_id?: string;
}

/** trace_id / span_id of the active span, or nothing outside a (valid) span. */
export function traceFields(): TraceFields {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** LOG_LEVEL when it names a pino level, else `info`. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const level = env.LOG_LEVEL?.trim().toLowerCase();
  return level && LEVELS.includes(level) ? (level as LevelWithSilent) : 'info';
}

export interface LoggerOptions {
  serviceName: string;
  level?: LevelWithSilent;
  /** Where lines go (stdout by default); tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON line per entry with `service`, ISO `time`, `level` as a word, and
 * the active span's `trace_id` / `span_id` mixed in, so a line can be joined with its trace.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? logLevelFromEnv(),
      base: { service: options.serviceName },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => traceFields(),
    },
    options.destination,
  );
}

/**
 * nestjs-pino for a Nest app: request logging through pino-http on {@link createLogger}, request id
 * from `x-request-id` (or a new UUID, echoed back), health probes and scrapes not logged.
 */
export function loggerModule(options: LoggerOptions): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      logger: createLogger(options),
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const header = req.headers['x-request-id'];
        const id = (Array.isArray(header) ? header[0] : header) || randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req: IncomingMessage) => isUntracedPath(req.url) },
      // The request line already has method and url; keep headers (cookies, tokens) out of logs.
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}
