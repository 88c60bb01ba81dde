import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossSiteRefusal } from './cross-site';
import { registerForwarding } from './forwarding';

/**
 * The BFF's forwarding (fastify + @fastify/http-proxy, as the console registers it) in front of a
 * recording upstream on loopback: what reaches the service, and what is refused before it does.
 */
describe('the BFF refuses cross-site state changes before forwarding them', () => {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let upstream: Server;
  let bff: FastifyInstance;
  const HOST = 'console.test:3009';
  const OWN = `http://${HOST}`;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    bff = Fastify();
    await registerForwarding(bff, {
      upstreams: { approval: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
      bearerFor: async (h) => (String(h.cookie ?? '').includes('flowline_sid=s1') ? 'session-token' : undefined),
    });
    await bff.ready();
  });
  afterAll(async () => {
    await bff.close();
    await new Promise((r) => upstream.close(r));
  });

  const reject = { url: '/api/approval/api/approvals/A1/steps/cs_review/reject', headers: { host: HOST, cookie: 'flowline_sid=s1' } };

  it('a cross-origin form POST with the session cookie is refused 403 (problem+json naming why) and never reaches the service', async () => {
    seen.length = 0;
    const r = await bff.inject({ method: 'POST', ...reject, headers: { ...reject.headers, origin: 'http://127.0.0.1:8080', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=x' });
    expect(r.statusCode).toBe(403);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json()).toMatchObject({ status: 403, code: 'CROSS_SITE_REQUEST' });
    expect(r.json().detail).toContain('Origin http://127.0.0.1:8080');
    // Without Origin, a foreign Referer is refused the same way; Origin: null (sandboxed, no-referrer) too.
    expect((await bff.inject({ method: 'POST', ...reject, headers: { ...reject.headers, referer: 'http://evil.test/page', 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(403);
    expect((await bff.inject({ method: 'DELETE', ...reject, headers: { ...reject.headers, origin: 'null' } })).statusCode).toBe(403);
    expect(seen).toEqual([]);
  });

  it('a same-origin call with a form body is refused 415: only JSON bodies are forwarded', async () => {
    seen.length = 0;
    const r = await bff.inject({ method: 'POST', ...reject, headers: { ...reject.headers, origin: OWN, 'content-type': 'text/plain' }, payload: '{"comment":"x"}' });
    expect(r.statusCode).toBe(415);
    expect(r.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(seen).toEqual([]);
  });

  it("the app's own calls pass: same-origin JSON with the session's token upstream, bodiless POSTs, GETs from anywhere", async () => {
    seen.length = 0;
    const ok = await bff.inject({ method: 'POST', ...reject, headers: { ...reject.headers, origin: OWN, 'content-type': 'application/json' }, payload: '{"comment":"x"}' });
    expect(ok.statusCode).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/approvals/A1/steps/cs_review/reject', body: '{"comment":"x"}' });
    expect(seen[0]!.headers.authorization).toBe('Bearer session-token');
    expect(seen[0]!.headers.cookie).toBeUndefined();
    // Referer of the console's own page (no Origin), an empty POST, and a cross-origin GET (reads change nothing).
    expect((await bff.inject({ method: 'POST', ...reject, headers: { ...reject.headers, referer: `${OWN}/approvals` } })).statusCode).toBe(200);
    expect((await bff.inject({ method: 'GET', url: '/api/approval/api/approvals/inbox', headers: { host: HOST, origin: 'http://evil.test' } })).statusCode).toBe(200);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'GET']);
  });

  it('with CONSOLE_PUBLIC_URL the origin must be that one, whatever Host the proxy in front passes', () => {
    const req = (origin: string) => ({ method: 'PUT', url: '/api/x', headers: { host: 'console:3009', origin } });
    expect(crossSiteRefusal(req('https://console.example.com'), 'https://console.example.com')).toBeNull();
    expect(crossSiteRefusal(req('http://console:3009'), 'https://console.example.com')).toMatchObject({ status: 403 });
  });
});
