import { isDomainError } from '@flowline/domain';
import type { FastifyInstance } from 'fastify';
import type { PullService } from '../../application/pull.service';

/**
 * Push receivers, registered on Fastify in their own scope because the signatures cover the raw
 * body bytes: the scope reads every body as a Buffer (the rest of the app keeps JSON parsing).
 *   POST /api/push/douyin/{shopId}   header event-sign; reply {"code":0,"msg":"success"}
 *   POST /api/push/shopify/{shopId}  header X-Shopify-Hmac-Sha256; reply 200
 * A signature that does not verify -> 401 PUSH_SIGNATURE_INVALID and nothing is read.
 */
export function registerPushRoutes(fastify: FastifyInstance, pulls: PullService): void {
  void fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, b, done) => done(null, b));
    const refuse = (e: unknown) => {
      if (isDomainError(e) && e.code === 'PUSH_SIGNATURE_INVALID') return { status: 401, body: { code: e.code, message: e.message } };
      if (isDomainError(e)) return { status: e.kind === 'not_found' ? 404 : 422, body: { code: e.code, message: e.message } };
      throw e;
    };
    scope.post<{ Params: { shopId: string } }>('/api/push/douyin/:shopId', async (req, reply) => {
      try {
        await pulls.douyinPush(req.params.shopId, (req.body as Buffer) ?? Buffer.alloc(0), req.headers['event-sign'] as string | undefined);
        return reply.send({ code: 0, msg: 'success' });
      } catch (e) {
        const r = refuse(e);
        return reply.status(r.status).send(r.body);
      }
    });
    scope.post<{ Params: { shopId: string } }>('/api/push/shopify/:shopId', async (req, reply) => {
      try {
        await pulls.shopifyWebhook(req.params.shopId, (req.body as Buffer) ?? Buffer.alloc(0), req.headers['x-shopify-hmac-sha256'] as string | undefined);
        return reply.send({ ok: true });
      } catch (e) {
        const r = refuse(e);
        return reply.status(r.status).send(r.body);
      }
    });
  });
}
