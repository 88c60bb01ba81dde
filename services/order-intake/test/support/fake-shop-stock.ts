import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One Douyin shop's stock API for the whole-system scale-out e2e: `sku.syncStock` (POST
 * /sku/syncStock, body `{ code, stock_num, incremental: false }`: a full update), every update kept
 * in arrival order, always answered with success. The signing and the platforms' rate limits are
 * proven against the full fake in services/channel-gateway/test (stock-adapters.int-spec); here
 * only what arrives, and in which order, matters.
 */
export interface FakeShopStock {
  url: string;
  updates: { sku: string; quantity: number; at: number }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeShopStock(): Promise<FakeShopStock> {
  const updates: FakeShopStock['updates'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = await body(req);
      const reply = (out: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
        res.end(JSON.stringify(out));
      };
      if (req.method !== 'POST' || url.pathname !== '/sku/syncStock' || url.searchParams.get('method') !== 'sku.syncStock') return reply({ code: 40003, msg: '接口不存在', data: {} });
      const param = JSON.parse(raw) as { code?: unknown; stock_num?: unknown; incremental?: unknown };
      if (typeof param.code !== 'string' || !Number.isInteger(param.stock_num) || param.incremental !== false) return reply({ code: 40004, msg: '参数错误', data: {} });
      updates.push({ sku: param.code, quantity: param.stock_num as number, at: Date.now() });
      reply({ code: 10000, msg: 'success', data: {} });
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    updates,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
