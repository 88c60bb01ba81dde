import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny HTTP server for carrier fakes: form bodies in, JSON out, every request recorded. */
export interface FakeServer {
  url: string;
  port: number;
  requests: { path: string; form: Record<string, string>; status: number }[];
  close(): Promise<void>;
}

export async function startFormServer(
  port: number,
  handle: (path: string, form: Record<string, string>) => { status: number; body: unknown },
): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const form = Object.fromEntries(new URLSearchParams(raw));
      let out: { status: number; body: unknown };
      try {
        out = handle(req.url ?? '/', form);
      } catch (e) {
        out = { status: 500, body: { error: String(e) } };
      }
      requests.push({ path: req.url ?? '/', form, status: out.status });
      res.writeHead(out.status, { 'content-type': 'application/json;charset=utf-8' });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Posts a form to a callback URL; returns status and parsed JSON reply. */
export async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
