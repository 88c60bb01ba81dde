import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NotificationSmsSender } from './sms.sender';

/** A stand-in for notification's POST /api/one-time-messages answering each call with the next status. */
async function notificationAnswering(statuses: number[]): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push({ path: req.url, method: req.method, body: JSON.parse(body) as unknown });
      const status = statuses[bodies.length - 1] ?? 500;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 202 ? { status: 'sent' } : { code: 'X', message: `status ${status}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

describe('NotificationSmsSender (portal codes through notification)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });
  const sender = (url: string) => new NotificationSmsSender(url, {}, [10, 30]);
  const ref = { orderId: 'o-1', purpose: 'portal-otp' as const };

  it('tries again after a passing failure (503, then 429) and stops at the first success', async () => {
    const n = await notificationAnswering([503, 429, 202]);
    server = n.server;
    await sender(n.url).send('13700001111', 'code 123456', ref);
    expect(n.bodies).toHaveLength(3);
    expect(n.bodies[2]).toEqual({ path: '/api/one-time-messages', method: 'POST', body: { channel: 'sms', phone: '13700001111', text: 'code 123456', purpose: 'portal-otp', orderId: 'o-1' } });
  });

  it('gives up after three tries, naming the last answer', async () => {
    const n = await notificationAnswering([503, 503, 503, 202]);
    server = n.server;
    await expect(sender(n.url).send('13700001111', 'code', ref)).rejects.toThrow(/503/);
    expect(n.bodies).toHaveLength(3);
  });

  it('does not try again when refused (400, or 502: the SMS provider refused)', async () => {
    for (const status of [400, 502]) {
      const n = await notificationAnswering([status, 202]);
      await expect(sender(n.url).send('13700001111', 'code', ref)).rejects.toThrow(new RegExp(String(status)));
      expect(n.bodies).toHaveLength(1);
      await new Promise<void>((r) => n.server.close(() => r()));
    }
  });

  it('tries again when notification cannot be reached', async () => {
    const n = await notificationAnswering([]);
    const url = n.url;
    await new Promise<void>((r) => n.server.close(() => r()));
    await expect(sender(url).send('13700001111', 'code', ref)).rejects.toThrow(/not reached/);
  });
});
