import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { orderIntakeClient } from '@flowline/clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from './http';

/** The generated typed client sending over the bench's pooled node:http connections (HttpClient.fetch). */
describe('HttpClient.fetch under the generated order-intake client', () => {
  let server: Server;
  let base = '';
  const seen: { method?: string; url?: string; key?: string | string[]; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, key: req.headers['idempotency-key'], body });
        if (req.url === '/api/orders/missing') {
          res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 404, code: 'ORDER_NOT_FOUND' }));
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json', etag: '"0"' }).end(JSON.stringify({ orderId: 'O-1', stage: 'placed' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends method, path, headers and JSON body, and reads status, headers and body back', async () => {
    const http = new HttpClient(base, 4);
    const intake = orderIntakeClient(base, { fetch: http.fetch });
    try {
      const placed = await intake.POST('/api/orders/{orderId}/cancel', { params: { path: { orderId: 'O-1' }, header: { 'Idempotency-Key': 'k-1' } }, body: { reason: '买家取消' } });
      expect(placed.response.status).toBe(201);
      expect(placed.response.headers.get('etag')).toBe('"0"');
      expect(placed.data).toMatchObject({ orderId: 'O-1' });
      expect(seen.at(-1)).toEqual({ method: 'POST', url: '/api/orders/O-1/cancel', key: 'k-1', body: JSON.stringify({ reason: '买家取消' }) });
      const missing = await intake.GET('/api/orders/{orderId}', { params: { path: { orderId: 'missing' } } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    } finally {
      http.close();
    }
  });
});
