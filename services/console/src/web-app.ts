import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { webBuilt } from './console.config';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Flowline console</title>
<p>The web app is not built: run <code>bash services/console/scripts/build-web.sh</code> (npm run build does it).</p>`;

/** Vite's output under assets/ carries a content hash in its name: a changed file is a new URL. */
const HASHED = /^\/assets\//;
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The built web app: its files (the `.br` / `.gz` copies the build made, to browsers that accept them:
 * `preCompressed`), cached for a year when hashed (assets/), an hour otherwise; every other GET outside
 * /api/ is index.html (client-side routes), never cached, so a release is picked up at the next load.
 */
export async function registerWebApp(fastify: FastifyInstance, webDir: string): Promise<void> {
  if (webBuilt(webDir)) {
    await fastify.register(fastifyStatic, {
      root: webDir,
      prefix: '/',
      index: false,
      wildcard: false,
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        const url = `/${path.slice(webDir.length).replace(/^[/\\]+/, '').replace(/\\/g, '/')}`;
        void reply.header('cache-control', HASHED.test(url) ? IMMUTABLE : 'public, max-age=3600');
      },
    });
  }
  const index = async () => (webBuilt(webDir) ? readFile(resolve(webDir, 'index.html'), 'utf8') : NOT_BUILT);
  // Client-side routes (/orders/..., /portal, ...) all get the app's index.html; /api/* does not.
  const spa = async (req: FastifyRequest, reply: FastifyReply) => {
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
