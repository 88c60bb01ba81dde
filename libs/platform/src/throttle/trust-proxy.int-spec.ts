import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { Public } from '@flowline/auth';
import { createTestDatabase } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from '../bootstrap';
import { PlatformModule } from '../platform.module';
import { trustProxyFromEnv } from './trust-proxy';

process.env.LOG_LEVEL ??= 'warn';

@Controller('open')
class OpenController {
  @Get()
  @Public()
  open() {
    return { ok: true };
  }
}

function appModule(url: string): DynamicModule {
  @Module({})
  class TrustProxyAppModule {}
  return {
    module: TrustProxyAppModule,
    imports: [PlatformModule.forRoot({ serviceName: 'trust-proxy-test', database: { url, retryAttempts: 1 }, kafka: false })],
    controllers: [OpenController],
  };
}

describe('TRUST_PROXY parsing', () => {
  it('is off unless set, and takes true, a hop count or a CIDR list', () => {
    expect(trustProxyFromEnv({})).toBe(false);
    expect(trustProxyFromEnv({ TRUST_PROXY: 'false' })).toBe(false);
    expect(trustProxyFromEnv({ TRUST_PROXY: '0' })).toBe(false);
    expect(trustProxyFromEnv({ TRUST_PROXY: 'true' })).toBe(true);
    expect(trustProxyFromEnv({ TRUST_PROXY: '2' })).toBe(2);
    expect(trustProxyFromEnv({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.10,fd00::/8' })).toEqual(['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);
    expect(() => trustProxyFromEnv({ TRUST_PROXY: 'ingress.local' })).toThrow(/TRUST_PROXY/);
    expect(() => trustProxyFromEnv({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
  });
});

describe('per-IP limit behind a proxy (TRUST_PROXY, real PostgreSQL store)', () => {
  const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
  let trusting: RunningService;
  let plain: RunningService;

  beforeAll(async () => {
    const saved = { ip: process.env.RATE_LIMIT_PER_IP, trust: process.env.TRUST_PROXY };
    process.env.RATE_LIMIT_PER_IP = '2';
    try {
      dbs.push(await createTestDatabase('platform_trust_proxy_on'), await createTestDatabase('platform_trust_proxy_off'));
      // The test client is the "ingress" on loopback: trusted by the first instance only.
      process.env.TRUST_PROXY = '127.0.0.1/32,::1';
      trusting = await bootstrapService({ name: 'trust-proxy-test', module: appModule(dbs[0].url), httpPort: 0, grpcPort: 0, shutdownHooks: false });
      delete process.env.TRUST_PROXY;
      plain = await bootstrapService({ name: 'trust-proxy-test', module: appModule(dbs[1].url), httpPort: 0, grpcPort: 0, shutdownHooks: false });
    } finally {
      for (const [k, v] of [['RATE_LIMIT_PER_IP', saved.ip], ['TRUST_PROXY', saved.trust]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 120_000);

  afterAll(async () => {
    await trusting?.close();
    await plain?.close();
    for (const db of dbs) await db.drop();
  });

  const get = (svc: RunningService, forwardedFor: string) => fetch(`${svc.httpUrl}/open`, { headers: { 'x-forwarded-for': forwardedFor } });

  it('with TRUST_PROXY set, X-Forwarded-For decides the per-IP bucket', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push((await get(trusting, '203.0.113.7')).status);
    expect(seen).toEqual([200, 200, 429]);
    // Another client behind the same proxy has its own budget.
    expect((await get(trusting, '203.0.113.8')).status).toBe(200);
    // A client-supplied hop in front of the real one does not move the bucket: the proxy appends the address it saw.
    expect((await get(trusting, '198.51.100.1, 203.0.113.7')).status).toBe(429);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: a changed header does not dodge the limit', async () => {
    expect((await get(plain, '203.0.113.7')).status).toBe(200);
    expect((await get(plain, '203.0.113.8')).status).toBe(200);
    const third = await get(plain, '203.0.113.9');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
