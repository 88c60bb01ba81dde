import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import proxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { type ConsoleConfig, consoleConfigFromEnv, UPSTREAMS, type UpstreamName, webBuilt } from './console.config';
import { AuthCallbackController, ConsoleController } from './console.controller';
import { ConsoleAuth } from './auth/console-auth';
import { OidcClient } from './auth/oidc-client';
import { pgTransactions } from '@flowline/messaging';
import { databasePoolTimings, ensureDatabaseExists, guardPool, PlatformConfig, runMigrations } from '@flowline/platform';
import { Pool } from 'pg';
import { CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS, PgSessionStore } from './auth/pg-session.store';
import { sealerFromEnv } from './auth/session-crypto';
import { CONSOLE_AUTH, CONSOLE_CONFIG, CONSOLE_POOL } from './console.module.tokens';
import { upstreamHeaders } from './identity';

/** The bearer token preHandler found for a forwarded request, read back when its upstream headers are built. */
const BEARER = Symbol('flowline.bearer');
type WithBearer = { [BEARER]?: string };


const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Flowline console</title>
<p>The web app is not built: run <code>bash services/console/scripts/build-web.sh</code> (npm run build does it).</p>`;

/**
 * The BFF: /api/<service>/<path> is forwarded to <service URL>/<path> (e.g.
 * /api/order-intake/api/orders -> order-intake's /api/orders) with the session's bearer token; every other
 * GET is the web app (its files, else index.html for the client-side routes). No business rules here.
 */
@Module({})
export class ConsoleModule implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('console');

  static forRoot(config: ConsoleConfig = consoleConfigFromEnv()): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController, AuthCallbackController],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        {
          // Sessions live in the console's own database (flowline_console), migrated at boot (and by the
          // flowline-migrate-console Job before a rollout), so every replica shares them (ADR 0014).
          provide: CONSOLE_POOL,
          inject: [PlatformConfig],
          useFactory: async (platform: PlatformConfig): Promise<Pool> => {
            if (!platform.database) throw new Error('console: sessions need the console database (DATABASE_URL)');
            await ensureDatabaseExists(platform.database.url);
            const pool = new Pool({ connectionString: platform.database.url, max: 6, ...databasePoolTimings() });
            guardPool(pool);
            await runMigrations(pgTransactions(pool), CONSOLE_MIGRATION_SCOPE, CONSOLE_MIGRATIONS);
            return pool;
          },
        },
        {
          provide: CONSOLE_AUTH,
          inject: [CONSOLE_POOL],
          useFactory: (pool: Pool) => {
            const sealer = sealerFromEnv(process.env, (msg) => new Logger('console').warn(msg));
            const store = new PgSessionStore(pool, sealer, {
              // Not a count cap in the database: lapsed rows are swept (absolute, idle, a customer token's end).
              maxSessions: 0,
              maxPending: 2_000,
              pendingTtlMs: 10 * 60_000,
              absoluteTtlMs: config.sessionMaxAgeMs,
              idleTtlMs: config.sessionIdleMs,
            });
            return new ConsoleAuth(store, new OidcClient(config.oidc), config.cookieSecure);
          },
        },
      ],
    };
  }

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(CONSOLE_AUTH) private readonly auth: ConsoleAuth,
    @Inject(CONSOLE_POOL) private readonly pool: Pool,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const auth = this.auth;
    for (const name of Object.keys(UPSTREAMS) as UpstreamName[]) {
      // Own scope: the proxy reads bodies as raw streams, so Nest's JSON parser is removed there only.
      await fastify.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        await scope.register(proxy, {
        upstream: this.config.upstreams[name],
        prefix: `/api/${name}`,
        rewritePrefix: '',
        // The session's access token (refreshed ahead of expiry here, asynchronously) is found first...
        preHandler: (req, _reply, done) => {
          auth.bearerFor(req.headers).then(
            (bearer) => {
              (req as unknown as WithBearer)[BEARER] = bearer;
              done();
            },
            () => done(),
          );
        },
        // ...and attached upstream. Upstream SSE streams (tracking's /api/tracking/stream) stay open; no proxy timeout on them.
        replyOptions: {
          rewriteRequestHeaders: (req, headers) => upstreamHeaders(headers, (req as unknown as WithBearer)[BEARER]) as typeof headers,
        },
      });
      });
    }
    const webDir = this.config.webDir;
    if (webBuilt(webDir)) {
      await fastify.register(fastifyStatic, { root: webDir, prefix: '/', index: false, wildcard: false, cacheControl: true, maxAge: '1h' });
    } else {
      this.log.warn(`web app not built in ${webDir}: serving a placeholder page`);
    }
    const index = async () => (webBuilt(webDir) ? readFile(resolve(webDir, 'index.html'), 'utf8') : NOT_BUILT);
    // Client-side routes (/orders/..., /portal, ...) all get the app's index.html; /api/* does not.
    const spa = async (req: { url: string }, reply: { type(t: string): unknown; header(k: string, v: string): unknown; status(n: number): unknown; send(b: unknown): unknown }) => {
      if (req.url.startsWith('/api/')) {
        reply.status(404);
        return reply.send({ statusCode: 404, code: 'NOT_FOUND', message: `no route ${req.url}` });
      }
      reply.type('text/html; charset=utf-8');
      reply.header('cache-control', 'no-cache');
      return reply.send(await index());
    };
    fastify.get('/', spa);
    fastify.get('/*', spa);
  }
}
