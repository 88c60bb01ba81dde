import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE, registerWebApp } from './web-app';

/** The web app as the BFF serves it (fastify + @fastify/static), from a built folder like Vite's. */
describe('the console serves its web app compressed and cached', () => {
  let dir: string;
  let app: FastifyInstance;
  const js = `export const big = ${JSON.stringify('flowline '.repeat(2_000))};\n`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-AbC123.js"></script>');
    writeFileSync(join(dir, 'assets/index-AbC123.js'), js);
    // What the build's precompress step writes beside each file.
    writeFileSync(join(dir, 'assets/index-AbC123.js.br'), brotliCompressSync(js));
    writeFileSync(join(dir, 'assets/index-AbC123.js.gz'), gzipSync(js));
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\n');
    app = Fastify();
    await registerWebApp(app, dir);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a hashed asset comes brotli-compressed to a browser that accepts it, gzip otherwise, and is cached for a year (immutable)', async () => {
    const br = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['cache-control']).toBe(IMMUTABLE);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.rawPayload.length).toBeLessThan(js.length / 10);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(js);
    const gz = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(js);
  });

  it('an unhashed file is cached an hour; the app page (client-side routes) is never cached; /api/* is no page', async () => {
    expect((await app.inject({ method: 'GET', url: '/robots.txt' })).headers['cache-control']).toBe('public, max-age=3600');
    const page = await app.inject({ method: 'GET', url: '/orders/O-1' });
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('/assets/index-AbC123.js');
    expect((await app.inject({ method: 'GET', url: '/api/nothing' })).statusCode).toBe(404);
  });
});
