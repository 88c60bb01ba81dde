import proxy from '@fastify/http-proxy';
import type { FastifyInstance } from 'fastify';
import { crossSiteProblem, crossSiteRefusal } from './cross-site';
import { upstreamHeaders } from './identity';

/** The bearer token preHandler found for a forwarded request, read back when its upstream headers are built. */
const BEARER = Symbol('flowline.bearer');
type WithBearer = { [BEARER]?: string };

export interface ForwardingOptions {
  /** service name -> base URL: /api/<name>/<path> goes to <base URL>/<path>. */
  upstreams: Record<string, string>;
  /** The session's access token for the request's cookies (refreshed ahead of expiry), or undefined. */
  bearerFor(headers: Record<string, string | string[] | undefined>): Promise<string | undefined>;
  /** CONSOLE_PUBLIC_URL: the console's own origin; unset, the request's Host. */
  publicUrl?: string;
}

/**
 * /api/<service>/<path> -> the service's /<path> (ADR 0010), with the session's bearer token and
 * nothing else of the browser's identity (identity.ts). A state-changing call from another origin, or
 * with a body other than JSON, is refused before anything is forwarded (cross-site.ts).
 */
export async function registerForwarding(fastify: FastifyInstance, o: ForwardingOptions): Promise<void> {
  for (const [name, upstream] of Object.entries(o.upstreams)) {
    // Own scope: the proxy reads bodies as raw streams, so Nest's JSON parser is removed there only.
    await fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      await scope.register(proxy, {
        upstream,
        prefix: `/api/${name}`,
        rewritePrefix: '',
        // Refused first (no session lookup, nothing upstream); else the session's access token is found...
        preHandler: (req, reply, done) => {
          const refusal = crossSiteRefusal(req, o.publicUrl);
          if (refusal) {
            const problem = crossSiteProblem(refusal, req.url);
            // Responding from the hook: fastify ends the request here (done is not called).
            void reply.code(refusal.status).type(problem.contentType).send(problem.body);
            return;
          }
          o.bearerFor(req.headers).then(
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
}
