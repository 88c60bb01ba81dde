import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type DynamicModule, type INestApplication, Logger as NestLogger, type Type, UnsupportedMediaTypeException } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import { LogController } from 'fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { createLogger, ensureDefaultMetrics, httpRequestDuration, logRequest, nestLoggerFor } from '@flowline/observability';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { setFatalHandler } from '@flowline/messaging';
import { bodyLimitFromEnv, corsOriginsFromEnv, DEFAULT_HOST, envPort, PlatformConfig } from './config';
import { DomainErrorFilter, UnexpectedErrorFilter } from './exception-filter';
import { openApiDocument } from './openapi';
import { GrpcHealth } from './grpc/grpc-health';
import { grpcMicroserviceOptions, type GrpcPackage } from './grpc/grpc-options';
import { ROOT_LOGGER } from './platform.module';
import { formatShutdownSteps, ShutdownSteps } from './shutdown-steps';
import { trustProxyFromEnv, type TrustProxy } from './throttle/trust-proxy';
import { createValidationPipe } from './validation';

export interface BootstrapOptions {
  /** Service name (folder under services/), e.g. `order-intake`. */
  name: string;
  /** Root module (a class or a dynamic module); it must import `PlatformModule.forRoot(...)`. */
  module: Type<unknown> | DynamicModule;
  /** 0 picks a free port (tests). */
  httpPort: number;
  grpcPort: number;
  /** Proto packages the service serves over gRPC; none means no gRPC server. */
  grpcPackages?: GrpcPackage[];
  /** Interface to listen on (default HOST, else 127.0.0.1: only deploy config (Dockerfile, k8s) says 0.0.0.0). */
  host?: string;
  /** Max request body in bytes (default BODY_LIMIT_BYTES or 1 MiB). */
  bodyLimitBytes?: number;
  /** Which proxies may set the client address (X-Forwarded-For); default TRUST_PROXY, else none. */
  trustProxy?: TrustProxy;
  /** Close on SIGTERM / SIGINT (default true; tests that boot many apps in one process turn it off). */
  shutdownHooks?: boolean;
  /** Version shown in the OpenAPI document. */
  version?: string;
}

export interface RunningService {
  readonly name: string;
  readonly app: NestFastifyApplication;
  readonly httpPort: number;
  readonly grpcPort: number | null;
  /** e.g. http://127.0.0.1:3001 */
  readonly httpUrl: string;
  /** e.g. 127.0.0.1:50051, null without gRPC. */
  readonly grpcAddress: string | null;
  /** Graceful stop: gRPC NOT_SERVING, consumers and pools closed, servers closed. */
  close(): Promise<void>;
}

/**
 * A service's `main.ts` in one call: boots `service` (its `SERVICE` constant) on HTTP_PORT /
 * GRPC_PORT, else its fixed ports; a failed boot writes one fatal JSON line and exits 1.
 */
export function runService(service: Omit<BootstrapOptions, 'module'>, module: Type<unknown> | DynamicModule): void {
  bootstrapService({
    ...service,
    module,
    httpPort: envPort('HTTP_PORT', service.httpPort),
    grpcPort: envPort('GRPC_PORT', service.grpcPort),
  }).catch((error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: service.name, msg: 'boot failed', err: String((error as Error)?.stack ?? error) })}\n`);
    process.exit(1);
  });
}

/** A hop count as Fastify's function form (the adapter's option type has no number): trust the nearest `n` hops. */
function fastifyTrustProxy(t: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof t === 'number' ? (_address: string, hop: number) => hop < t : t;
}

/**
 * Creates and starts one Flowline service: NestJS on Fastify, with the global ValidationPipe,
 * DomainError mapping, body limit, OpenAPI at /docs (JSON at /docs-json), request metrics, pino
 * logs, and a gRPC server (service packages + grpc.health.v1 + reflection) in the same process.
 *
 * Order matters: `app.init()` runs every onModuleInit / onApplicationBootstrap hook (migrations,
 * consumers' setup) before `startAllMicroservices()` accepts gRPC calls, and HTTP listens last.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<RunningService> {
  const host = options.host ?? (process.env.HOST?.trim() || DEFAULT_HOST);
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? bodyLimitFromEnv(),
    // Path ids up to this length reach the route and its pipes (400 naming the parameter, or 404);
    // Fastify's default of 100 answered ids of 101-128 characters, which the id rules allow, with
    // its own 414 in another error format.
    maxParamLength: 1024,
    // request.ip (the per-IP rate limit's key) comes from X-Forwarded-For only through trusted proxies.
    trustProxy: fastifyTrustProxy(options.trustProxy ?? trustProxyFromEnv()),
    // A caller's X-Request-Id is kept (and echoed back), else a new UUID: one id per request in logs.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // One line per request comes from the onResponse hook below; Fastify's own request lines are off
    // (through a LogController: the top-level disableRequestLogging option is deprecated, FSTDEP023).
    logController: new LogController({ disableRequestLogging: true }),
  });
  // JSON logs from the first line: until nestjs-pino takes over, Nest logs through this one.
  const bootLogger = nestLoggerFor(createLogger({ serviceName: options.name }));
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    bufferLogs: true,
    abortOnError: false,
    logger: bootLogger,
  });
  try {
    return await start(app, options, host);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

async function start(app: NestFastifyApplication, options: BootstrapOptions, host: string): Promise<RunningService> {
  requirePlatform(app, options.name);
  app.useLogger(app.get(Logger));
  app.flushLogs();

  ensureDefaultMetrics();
  const requestDuration = httpRequestDuration();
  const rootLogger = app.get<PinoLogger>(ROOT_LOGGER);
  const fastify = app.getHttpAdapter().getInstance();
  // Bodies are JSON. Fastify also parses text/plain by default, into a string that validation then
  // reported as every field missing (400): a client that forgot its Content-Type was told the
  // wrong thing. Any type without a parser is now 415 naming the type and what to send. Form
  // bodies keep Nest's parser: carriers (kuaidi100, SF) post their callbacks form-encoded.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]?.trim() || '(none)';
    done(new UnsupportedMediaTypeException(`Content-Type ${type} is not accepted: send the body as application/json`), undefined);
  });
  // Security headers on every reply (HSTS, nosniff, frame-ancestors, referrer policy, CSP). Inline
  // script and style stay allowed: the Swagger UI at /docs and tracking's board page are inline.
  // One helmet middleware built at start (@fastify/helmet built it again for every request: ~1% of
  // order-intake's CPU under load, issue #10), applied to the raw response as the plugin did.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        // Local runs and tests are plain http on 127.0.0.1: no rewriting of sub-resources to https.
        upgradeInsecureRequests: null,
      },
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined)));
  // CORS: only the origins in CORS_ORIGINS (comma separated); none configured = no cross-origin access.
  const corsOrigins = corsOriginsFromEnv();
  if (corsOrigins.length) {
    app.enableCors({
      origin: corsOrigins,
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'accept-language', 'x-request-id', 'traceparent'],
      exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // One metric sample and one log line per request, once the response is out. Runs inside the
  // request's trace context, so the line carries its trace_id.
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    requestDuration.observe({ method: request.method, route: route ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    logRequest(rootLogger, {
      requestId: String(request.id),
      method: request.method,
      url: request.url,
      route,
      statusCode: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
  });

  app.useGlobalPipes(createValidationPipe());
  // The catch-all first: Nest tries the filters registered later first.
  app.useGlobalFilters(new UnexpectedErrorFilter(app.get(HttpAdapterHost), options.name), new DomainErrorFilter(app.get(HttpAdapterHost), options.name));
  const steps = app.get(ShutdownSteps);
  const shutdownLog = rootLogger.child({ context: 'shutdown' });
  boundHttpClose(app, steps, shutdownLog);
  let closing: Promise<void> | undefined;
  const close = (signal?: NodeJS.Signals) => (closing ??= closeTimed(app, steps, shutdownLog, signal));
  if (options.shutdownHooks ?? true) {
    handleStopSignals(close, shutdownLog);
    // A background worker that gave up for good (a consumer kafkajs will not restart): the process
    // stops gracefully with exit code 1 and the orchestrator starts it again, worker included.
    // A worker that fails while an ordinary stop is under way (its connection closed under it) is
    // part of that stop: logged, and the exit code stays the stop's own.
    setFatalHandler(restartOnFatal(shutdownLog, process, () => closing !== undefined));
  }

  SwaggerModule.setup('docs', app, () => openApiDocument(app, options.name, options.version), { jsonDocumentUrl: 'docs-json' });

  const health = app.get(GrpcHealth);
  let grpcPort: number | null = null;
  let services: string[] = [];
  if (options.grpcPackages?.length) {
    grpcPort = options.grpcPort === 0 ? await freePort() : options.grpcPort;
    const grpc = app.connectMicroservice(
      grpcMicroserviceOptions({
        url: `${host}:${grpcPort}`,
        packages: options.grpcPackages,
        health,
        onServices: (names) => (services = names),
      }),
      { inheritAppConfig: true },
    );
    const closeGrpc = grpc.close.bind(grpc);
    grpc.close = async () => void (await steps.run('gRPC server close', closeGrpc, SERVER_CLOSE_BOUND_MS));
  }

  await app.init();
  await app.startAllMicroservices();
  await app.listen(options.httpPort, host);
  health.setStatus('', 'SERVING');
  for (const service of services) health.setStatus(service, 'SERVING');

  const httpPort = (app.getHttpServer().address() as AddressInfo).port;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  new NestLogger('bootstrap').log(
    `${options.name} ready: http://${local}:${httpPort}` + (grpcPort === null ? '' : `, gRPC ${local}:${grpcPort} (${services.join(', ')})`),
  );
  return {
    name: options.name,
    app,
    httpPort,
    grpcPort,
    httpUrl: `http://${local}:${httpPort}`,
    grpcAddress: grpcPort === null ? null : `${local}:${grpcPort}`,
    close: () => close(),
  };
}

function requirePlatform(app: INestApplication, name: string): PlatformConfig {
  try {
    return app.get(PlatformConfig);
  } catch {
    throw new Error(`${name}: the root module must import PlatformModule.forRoot({ serviceName: '${name}' })`);
  }
}

/** A TCP port free right now on this host (the gRPC server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Bound of the gRPC server's close and, after the drain, of the HTTP server's. */
const SERVER_CLOSE_BOUND_MS = 3_000;

function positiveMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  const ms = raw ? Number(raw) : fallback;
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`${name}=${raw} is not a positive integer`);
  return ms;
}

/** SHUTDOWN_TIMEOUT_MS: the whole stop after SIGTERM / SIGINT (default 25 000, under Kubernetes' 30 s grace). */
export function shutdownTimeoutMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return positiveMs(env, 'SHUTDOWN_TIMEOUT_MS', 25_000);
}

/** SHUTDOWN_HTTP_DRAIN_MS: how long requests still in flight when the HTTP server closes may finish (default 3 000). */
export function httpDrainMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return positiveMs(env, 'SHUTDOWN_HTTP_DRAIN_MS', 3_000);
}

/**
 * The HTTP server's close, bounded (issue #18: order-intake still stopping 30 s after SIGTERM).
 * Node's server.close() ends only the keep-alive connections idle at that moment. A connection
 * whose request is still in flight gets a keep-alive response and then stays open until its client
 * sends again (Fastify answers 503 + Connection: close) or Fastify's keepAliveTimeout (72 s) ends
 * it; a client that already routes around the stopping instance (what readiness does behind a
 * load balancer) never sends again, so the close outlived the pod's grace. Here: idle connections
 * are closed every 100 ms while the server drains, and what is still open after
 * SHUTDOWN_HTTP_DRAIN_MS is cut.
 */
function boundHttpClose(app: NestFastifyApplication, steps: ShutdownSteps, logger: PinoLogger, drainMs = httpDrainMsFromEnv()): void {
  const adapter = app.getHttpAdapter();
  const closeHttp = adapter.close.bind(adapter);
  adapter.close = async () => {
    await steps.run(
      'HTTP server close',
      async () => {
        const server = app.getHttpServer() as Server;
        const reap = setInterval(() => server.closeIdleConnections(), 100);
        const cut = setTimeout(() => {
          server.getConnections((_error, open) => {
            if (open) logger.warn({ open, drainMs }, `HTTP drain: ${open} connection(s) still open ${drainMs} ms after close began (a request in flight at close, or its keep-alive connection after it): cut`);
          });
          server.closeAllConnections();
        }, drainMs);
        try {
          await closeHttp();
        } finally {
          clearInterval(reap);
          clearTimeout(cut);
        }
      },
      drainMs + SERVER_CLOSE_BOUND_MS,
    );
  };
}

/**
 * app.close() with its steps timed: one info line at the end lists every step (the hooks' own via
 * {@link ShutdownSteps}, the HTTP and gRPC closes) and the total; a warn names each step over 2 s
 * or not done, so a slow stop says where it waited.
 */
async function closeTimed(app: NestFastifyApplication, steps: ShutdownSteps, logger: PinoLogger, signal?: NodeJS.Signals): Promise<void> {
  const started = performance.now();
  try {
    // Nest's close(signal) hands the signal to the shutdown hooks; its declared type has no parameter.
    await (app.close as (signal?: string) => Promise<void>).call(app, signal);
  } finally {
    const ms = Math.round(performance.now() - started);
    const records = steps.list();
    logger.info({ signal, ms, steps: records }, `shutdown steps (${ms} ms in all): ${formatShutdownSteps(records)}`);
    const slow = steps.slow();
    if (slow.length) logger.warn({ signal, steps: slow }, `slow shutdown steps: ${formatShutdownSteps(slow)}`);
  }
}

/**
 * SIGTERM / SIGINT -> the graceful stop, then process.exit(0): 'exit' fires, where pino flushes its
 * buffered lines (a re-raised signal would drop the last ones). A failed stop exits 1.
 * A stop that hangs (a client library waiting out a rebalance or a broker retry loop) must not
 * outlive the pod's grace period and end in a SIGKILL with no word: past SHUTDOWN_TIMEOUT_MS the
 * process says so and exits 1. Whatever it had not committed is redelivered (consumers are
 * idempotent; the relay resumes from its checkpoint). A second signal during the stop changes nothing.
 */
/**
 * The process's answer to a background worker that gave up (libs/messaging `reportFatal`): logs it
 * and stops the process gracefully (SIGTERM to itself, the same path as an orchestrator's stop)
 * with exit code 1, once. A consumer crash kafkajs does not restart otherwise left, say, tracking's
 * board frozen behind a green liveness probe until someone restarted it by hand.
 */
export function restartOnFatal(
  logger: Pick<PinoLogger, 'error'>,
  proc: { pid: number; exitCode?: number | string | null; kill(pid: number, signal: NodeJS.Signals): unknown } = process,
  stopping: () => boolean = () => false,
): (component: string, error: unknown) => void {
  let requested = false;
  return (component, error) => {
    if (!requested && stopping()) {
      logger.error({ component, err: String((error as Error)?.message ?? error) }, `${component} gave up while the process was stopping`);
      return;
    }
    logger.error({ component, err: String((error as Error)?.message ?? error) }, `${component} gave up; stopping the process so that it is started again`);
    if (requested) return;
    requested = true;
    proc.exitCode = 1;
    proc.kill(proc.pid, 'SIGTERM');
  };
}

function handleStopSignals(close: (signal: NodeJS.Signals) => Promise<void>, logger: PinoLogger, env: NodeJS.ProcessEnv = process.env): void {
  const ms = shutdownTimeoutMsFromEnv(env);
  let received: NodeJS.Signals | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (received) return;
      received = signal;
      setTimeout(() => {
        logger.error({ signal, deadlineMs: ms }, `shutdown did not finish within ${ms} ms of ${signal}: exiting 1 without waiting for the remaining hooks`);
        process.exit(1);
      }, ms).unref();
      close(signal).then(
        // 0, or the 1 that restartOnFatal set: the orchestrator restarts the process either way.
        () => process.exit(),
        (error: unknown) => {
          logger.error({ signal, err: String((error as Error)?.stack ?? error) }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
