import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedLookup, postWebhook } from './webhook-dispatcher';

let receiver: Server;
const received: string[] = [];
const port = () => (receiver.address() as AddressInfo).port;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(req.url === '/moved' ? 302 : 204, req.url === '/moved' ? { location: 'http://169.254.169.254/' } : {}).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

describe('where a webhook may go: checked where the socket connects', () => {
  it('refuses a metadata host or address before connecting, in any of its spellings', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[::ffff:169.254.169.254]/latest', 'http://100.100.100.200/latest/meta-data', 'http://metadata.google.internal/computeMetadata/v1', 'http://[fe80::1]:8080/hook']) {
      await expect(postWebhook(url, {}, '{}', 2_000), url).rejects.toThrow(/refused/);
    }
  });

  it('refuses a name that resolves to a metadata address at connect time (a rebinding answer never reaches the socket)', async () => {
    const rebinding = checkedLookup((_host, _options, callback) => callback(null, [{ address: '169.254.169.254', family: 4 }]));
    await expect(postWebhook(`http://mes.example.test:${port()}/hook`, {}, '{}', 2_000, rebinding)).rejects.toThrow(/refused: mes\.example\.test resolves to 169\.254\.169\.254/);
    const honest = checkedLookup((_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]));
    expect(await postWebhook(`http://mes.example.test:${port()}/hook`, { 'content-type': 'application/json' }, '{"a":1}', 2_000, honest)).toBe(204);
    expect(received).toContain('{"a":1}');
  });

  it('a loopback or resolved local MES is reached; a redirect is answered, never followed', async () => {
    expect(await postWebhook(`http://localhost:${port()}/hook`, {}, '{"b":2}', 2_000)).toBe(204);
    expect(await postWebhook(`http://127.0.0.1:${port()}/moved`, {}, '{"c":3}', 2_000)).toBe(302);
  });
});
