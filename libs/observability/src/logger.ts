import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DynamicModule, type LoggerService } from '@nestjs/common';
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
 * nestjs-pino for a Nest app, on the given root logger: Nest's own log lines (and `PinoLogger`
 * injected in features) go through it. Request lines are written by the platform's Fastify hook
 * instead of pino-http's middleware (which does not see the end of Fastify responses).
 */
export function loggerModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: { logger, autoLogging: false, quietReqLogger: true } });
}

/** One line per HTTP request, written when the response has been sent. */
export interface RequestLogLine {
  requestId: string;
  method: string;
  url: string;
  /** Route pattern (`/orders/:id`), when a route matched. */
  route?: string;
  statusCode: number;
  durationMs: number;
}

/**
 * Which request lines are worth an info line. Logging every request at info cost a JSON line per
 * request on the hot path (issue #10): errors and slow requests are what an operator reads; the
 * rest is sampled, or written at debug.
 */
export interface RequestLogPolicy {
  /** A request at least this slow is written at info (`LOG_SLOW_REQUEST_MS`, default 1000). */
  slowMs: number;
  /** Share of the other requests written at info (`LOG_REQUEST_SAMPLE`, 0..1, default 0). */
  sampleRatio: number;
  /** Source of randomness for the sample (tests pass their own). */
  random?: () => number;
}

/** The request log policy from LOG_SLOW_REQUEST_MS and LOG_REQUEST_SAMPLE. */
export function requestLogPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RequestLogPolicy {
  const slow = Number(env.LOG_SLOW_REQUEST_MS);
  const sample = Number(env.LOG_REQUEST_SAMPLE);
  return {
    slowMs: env.LOG_SLOW_REQUEST_MS !== undefined && Number.isFinite(slow) && slow >= 0 ? slow : 1_000,
    sampleRatio: env.LOG_REQUEST_SAMPLE !== undefined && Number.isFinite(sample) ? Math.min(1, Math.max(0, sample)) : 0,
  };
}

let defaultPolicy: RequestLogPolicy | undefined;

/**
 * Writes a request line unless the path is a probe or a scrape: warn for 5xx, info for 4xx and
 * for slow requests, info for a sampled share of the rest, debug for the others (written only
 * when the level is debug or lower).
 */
export function logRequest(logger: Logger, line: RequestLogLine, policy: RequestLogPolicy = (defaultPolicy ??= requestLogPolicyFromEnv())): void {
  if (isUntracedPath(line.url)) return;
  const failed = line.statusCode >= 500;
  const refused = line.statusCode >= 400;
  const slow = line.durationMs >= policy.slowMs;
  const sampled = !failed && !refused && !slow && policy.sampleRatio > 0 && (policy.random ?? Math.random)() < policy.sampleRatio;
  if (!failed && !refused && !slow && !sampled && !logger.isLevelEnabled('debug')) return; // the common case: no object built
  const entry = {
    req: { id: line.requestId, method: line.method, url: line.url, route: line.route },
    res: { statusCode: line.statusCode },
    responseTime: Math.round(line.durationMs * 100) / 100,
  };
  if (failed) logger.warn(entry, 'request failed');
  else if (refused) logger.info(entry, 'request refused');
  else if (slow) logger.info(entry, 'slow request');
  else if (sampled) logger.info({ ...entry, sampled: true }, 'request completed');
  else logger.debug(entry, 'request completed');
}

/**
 * A Nest LoggerService over a pino logger, for the boot phase before nestjs-pino is wired (so even
 * "cannot connect to the database" comes out as JSON). Nest passes the context as the last argument.
 */
export function nestLoggerFor(logger: Logger): LoggerService {
  const write =
    (level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal') =>
    (message: unknown, ...rest: unknown[]) => {
      const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
      const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
      const msg = message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
      logger[level]({ context, ...(stack ? { stack } : {}) }, msg);
    };
  return { log: write('info'), error: write('error'), warn: write('warn'), debug: write('debug'), verbose: write('trace'), fatal: write('fatal') };
}
