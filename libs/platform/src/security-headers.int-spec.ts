import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from './bootstrap';
import { corsOriginsFromEnv, DEFAULT_HOST } from './config';
import { PlatformModule } from './platform.module';

process.env.LOG_LEVEL ??= 'warn';

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return { items: [] };
  }
}

function appModule(): DynamicModule {
  @Module({})
  class HeadersAppModule {}
  return { module: HeadersAppModule, imports: [PlatformModule.forRoot({ serviceName: 'headers-test', database: false, kafka: false })], controllers: [ThingsController] };
}

describe('security headers, CORS allow-list and bind address', () => {
  let svc: RunningService;
  const saved = { cors: process.env.CORS_ORIGINS, host: process.env.HOST };

  beforeAll(async () => {
    process.env.CORS_ORIGINS = 'http://console.test:3009, https://portal.example.com/';
    delete process.env.HOST;
    svc = await bootstrapService({ name: 'headers-test', module: appModule(), httpPort: 0, grpcPort: 0, shutdownHooks: false });
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    if (saved.cors === undefined) delete process.env.CORS_ORIGINS;
    else process.env.CORS_ORIGINS = saved.cors;
    if (saved.host !== undefined) process.env.HOST = saved.host;
  });

  it('binds loopback when HOST is not set', () => {
    expect(DEFAULT_HOST).toBe('127.0.0.1');
    expect(svc.app.getHttpServer().address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('sends helmet headers on API replies, errors and probes', async () => {
    for (const path of ['/things', '/no-such-route', '/health/live']) {
      const res = await fetch(`${svc.httpUrl}${path}`);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('answers CORS only for origins in CORS_ORIGINS', async () => {
    const allowed = await fetch(`${svc.httpUrl}/things`, {
      method: 'OPTIONS',
      headers: { origin: 'http://console.test:3009', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://console.test:3009');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');

    const stranger = await fetch(`${svc.httpUrl}/things`, { headers: { origin: 'https://evil.example' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const portal = await fetch(`${svc.httpUrl}/things`, { headers: { origin: 'https://portal.example.com' } });
    expect(portal.headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
  });

  it('refuses a wildcard or a URL with a path in CORS_ORIGINS', () => {
    expect(() => corsOriginsFromEnv({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => corsOriginsFromEnv({ CORS_ORIGINS: 'https://a.example/app' })).toThrow(/no path/);
    expect(corsOriginsFromEnv({})).toEqual([]);
  });
});
