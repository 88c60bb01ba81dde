import { CanActivate, Controller, ExecutionContext, Get, Injectable, Module, Post, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Throttle } from '@nestjs/throttler';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from '../bootstrap';
import { PlatformModule } from '../platform.module';
import { PgThrottlerStorage } from './pg-throttler.storage';
import { ThrottleModule } from './throttle.module';

process.env.LOG_LEVEL ??= 'warn';

@Controller('limited')
class LimitedController {
  /** A route with its own tight per-IP limit, like the portal's one-time-code request. */
  @Post('otp')
  @Throttle({ ip: { limit: 3, ttl: 60_000 } })
  otp() {
    return { ok: true };
  }

  @Get('work')
  work() {
    return { ok: true };
  }
}

/**
 * Stands in for @flowline/auth's guard: puts a principal on the request. Test code only; the real
 * guard verifies a token.
 */
@Injectable()
class FakePrincipalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string>; principal?: unknown }>();
    const subject = req.headers['x-test-subject'];
    if (subject) req.principal = { subject, issuer: 'http://issuer.test' };
    return true;
  }
}

function appModule(url: string): DynamicModule {
  @Module({})
  class ThrottledAppModule {}
  return {
    module: ThrottledAppModule,
    imports: [
      PlatformModule.forRoot({ serviceName: 'throttle-test', database: { url, retryAttempts: 1 }, kafka: false }),
      // Per-identity 4 per minute; per-IP default off (loopback is every test's IP).
      ThrottleModule.forRoot({ config: { windowMs: 60_000, perIp: 0, perIdentity: 4 } }),
    ],
    controllers: [LimitedController],
    providers: [{ provide: APP_GUARD, useClass: FakePrincipalGuard }],
  };
}

describe('rate limits shared by two instances (PostgreSQL store)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const instances: RunningService[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('platform_throttle');
    for (let i = 0; i < 2; i++) {
      instances.push(await bootstrapService({ name: 'throttle-test', module: appModule(db.url), httpPort: 0, grpcPort: 0, shutdownHooks: false }));
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of instances) await s.close();
    await db?.drop();
  });

  it('counts a route limit across both instances and answers 429 problem+json with Retry-After', async () => {
    const [a, b] = instances;
    const statuses: number[] = [];
    for (const svc of [a, b, a]) statuses.push((await fetch(`${svc.httpUrl}/limited/otp`, { method: 'POST' })).status);
    expect(statuses).toEqual([201, 201, 201]);
    const refused = await fetch(`${b.httpUrl}/limited/otp`, { method: 'POST' });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429 });
    // Blocked on the first instance too.
    expect((await fetch(`${a.httpUrl}/limited/otp`, { method: 'POST' })).status).toBe(429);
  });

  it('limits each verified identity across both instances, apart from other identities and anonymous calls', async () => {
    const [a, b] = instances;
    const as = (svc: RunningService, subject?: string) => fetch(`${svc.httpUrl}/limited/work`, { headers: subject ? { 'x-test-subject': subject } : {} });
    const seen: number[] = [];
    for (const svc of [a, b, a, b]) seen.push((await as(svc, 'alice')).status);
    expect(seen).toEqual([200, 200, 200, 200]);
    const fifth = await as(a, 'alice');
    expect(fifth.status).toBe(429);
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await as(b, 'bob')).status).toBe(200);
    expect((await as(b)).status).toBe(200);
    // Probes are never limited.
    expect((await fetch(`${a.httpUrl}/health/live`)).status).toBe(200);
  });

  it('keeps exact counts under concurrent hits on one key (atomic upsert)', async () => {
    const pool = new Pool({ connectionString: db.url, max: 8 });
    try {
      const store = new PgThrottlerStorage(pool);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.increment('k-concurrent', 60_000, 10, 60_000, 'ip')));
      const allowed = results.filter((r) => !r.isBlocked).length;
      expect(allowed).toBe(10);
      expect(results.filter((r) => r.isBlocked).every((r) => r.timeToBlockExpire >= 1)).toBe(true);
      // A zero-length block ends at once: the next hit starts a new window.
      await store.increment('k-short', 60_000, 1, 1, 'ip');
      const over = await store.increment('k-short', 60_000, 1, 1, 'ip');
      expect(over.totalHits).toBe(2);
    } finally {
      await pool.end();
    }
  });
});
