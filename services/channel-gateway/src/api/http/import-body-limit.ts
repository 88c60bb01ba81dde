import type { FastifyInstance } from 'fastify';

/** The upload route (POST /api/imports): its files come base64 in the JSON body. */
export const IMPORT_ROUTE = '/api/imports';

/** Default body limit of the upload route: a 5,000-row export is ~1.3 MB, base64 a third more; 16 MiB leaves room. */
export const DEFAULT_IMPORT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

/**
 * Gives the upload route its own body limit (CHANNEL_IMPORT_BODY_LIMIT_BYTES), leaving every other
 * route at the service's (BODY_LIMIT_BYTES, 1 MiB): an export is a file, the rest are small commands.
 * A body over it is answered 413 saying the limit and what to do instead (split the export, or the
 * CLI, which reads the file from disk). Must run before the routes are registered (a module's
 * constructor: Nest registers routes in app.init()).
 */
export function limitImportBody(fastify: FastifyInstance, limitBytes: number): void {
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url === IMPORT_ROUTE && methods.includes('POST')) route.bodyLimit = limitBytes;
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 413 || request.method !== 'POST' || request.routeOptions.url !== IMPORT_ROUTE) return payload;
    const detail =
      `the upload is over the import limit of ${mib(limitBytes)} (${limitBytes} bytes; files are base64 in JSON, a third larger than on disk): ` +
      `split the export into smaller files, import it with the CLI (npm run import -- <file> --channel <c>), or raise CHANNEL_IMPORT_BODY_LIMIT_BYTES ` +
      `(上传内容超过导入上限 ${mib(limitBytes)}：请把导出文件拆小后分批上传，或用命令行 npm run import 导入)`;
    let body: Record<string, unknown> = {};
    try {
      body = typeof payload === 'string' ? (JSON.parse(payload) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    return JSON.stringify({ ...body, status: 413, code: typeof body.code === 'string' ? body.code : 'PAYLOAD_TOO_LARGE', detail, message: detail, limitBytes });
  });
}
