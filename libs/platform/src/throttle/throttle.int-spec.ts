import { Controller, Get, Module, Post, type DynamicModule } from '@nestjs/common';
import { Throttle } from '@nestjs/throttler';
import { ForCustomers, Public, Requires } from '@flowline/auth';
import { createTestDatabase, tokenFor } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from '../bootstrap';
import { PlatformModule } from '../platform.module';
import { PgThrottlerStorage } from './pg-throttler.storage';

process.env.LOG_LEVEL ??= 'warn';

@Controller('limited')
class LimitedController {
  /** A public route with its own tight per-IP limit, like the portal's one-time-code request. */
  @Post('otp')
  @Public()
  @Throttle({ ip: { limit: 3, ttl: 60_000 } })
  otp() {
    return { ok: true };
  }

  @Get('work')
  @Requires('read', 'Order')
  work() {
    return { ok: true };
  }

  @Get('open')
  @Public()
  open() {
    return { ok: true };
  }
}

/** Stands for approval's change-request route (a capped portal action). */
@Controller('api/change-requests')
class ChangeRequestsController {
  @Post()
  @Requires('create', 'ChangeRequest')
  @ForCustomers()
  create() {
    return { ok: true };
  }
}

function appModule(url: string): DynamicModule {
  @Module({})
  class ThrottledAppModule {}
  return {
    module: ThrottledAppModule,
    // PlatformModule installs the limits (with @flowline/auth's verified principal as the identity).
    imports: [PlatformModule.forRoot({ serviceName: 'throttle-test', database: { url, retryAttempts: 1 }, kafka: false })],
    // (PORTAL_CHANGE_REQUESTS_PER_HOUR=2 is set before this module is built.)
    controllers: [LimitedController, ChangeRequestsController],
  };
}

describe('rate limits shared by two instances (PostgreSQL store)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const instances: RunningService[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('platform_throttle');
    // Per-identity 4 per minute; per-IP default off (loopback is every test's IP).
    const saved = { identity: process.env.RATE_LIMIT_PER_IDENTITY, ip: process.env.RATE_LIMIT_PER_IP, caps: process.env.PORTAL_CHANGE_REQUESTS_PER_HOUR };
    process.env.RATE_LIMIT_PER_IDENTITY = '4';
    process.env.RATE_LIMIT_PER_IP = '0';
    process.env.PORTAL_CHANGE_REQUESTS_PER_HOUR = '2';
    for (let i = 0; i < 2; i++) {
      instances.push(await bootstrapService({ name: 'throttle-test', module: appModule(db.url), httpPort: 0, grpcPort: 0, shutdownHooks: false }));
    }
    for (const [k, v] of [['RATE_LIMIT_PER_IDENTITY', saved.identity], ['RATE_LIMIT_PER_IP', saved.ip], ['PORTAL_CHANGE_REQUESTS_PER_HOUR', saved.caps]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of instances) await s.close();
    await db?.drop();
  });

  it('counts a route limit across both instances and answers 429 problem+json with Retry-After', async () => {
    const [a, b] = instances;
    const statuses: number[] = [];
    const post = (svc: RunningService) => fetch(`${svc.httpUrl}/limited/otp`, { method: 'POST', headers: { authorization: '' } });
    for (const svc of [a, b, a]) statuses.push((await post(svc)).status);
    expect(statuses).toEqual([201, 201, 201]);
    const refused = await post(b);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ status: 429 });
    // Blocked on the first instance too.
    expect((await post(a)).status).toBe(429);
  });

  it('limits each verified identity across both instances, apart from other identities and anonymous calls', async () => {
    const [a, b] = instances;
    const [cs, warehouse] = [await tokenFor('customer_service'), await tokenFor('warehouse')];
    const as = (svc: RunningService, token: string, path = 'work') => fetch(`${svc.httpUrl}/limited/${path}`, { headers: { authorization: token ? `Bearer ${token}` : '' } });
    const seen: number[] = [];
    for (const svc of [a, b, a, b]) seen.push((await as(svc, cs)).status);
    expect(seen).toEqual([200, 200, 200, 200]);
    const fifth = await as(a, cs);
    expect(fifth.status).toBe(429);
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await as(b, warehouse)).status).toBe(200);
    // Anonymous requests have no identity budget (the per-IP limit is theirs); a forged header changes nothing.
    for (let i = 0; i < 6; i++) expect((await as(a, '', 'open')).status).toBe(200);
    // Probes are never limited.
    expect((await fetch(`${a.httpUrl}/health/live`)).status).toBe(200);
  });

  it('caps a customer at PORTAL_CHANGE_REQUESTS_PER_HOUR change requests across both instances; staff are not capped', async () => {
    const [a, b] = instances;
    const customer = await tokenFor('customer', { orders: ['o-cap-1'] });
    const post = (svc: RunningService, token: string) => fetch(`${svc.httpUrl}/api/change-requests`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await post(a, customer)).status).toBe(201);
    expect((await post(b, customer)).status).toBe(201);
    const third = await post(a, customer);
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ code: 'PORTAL_ACTION_CAP' });
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const cs = await tokenFor('general_manager');
    for (let i = 0; i < 3; i++) expect((await post(b, cs)).status).toBe(201);
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
      // No WAL for counters (a counted request does not wait for a WAL flush).
      const { rows } = await pool.query<{ relpersistence: string }>(`SELECT relpersistence FROM pg_class WHERE relname = 'flowline_throttle'`);
      expect(rows[0]?.relpersistence).toBe('u');
    } finally {
      await pool.end();
    }
  });
});
