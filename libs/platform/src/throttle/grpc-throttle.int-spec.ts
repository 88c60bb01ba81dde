import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Requires } from '@flowline/auth';
import { createTestDatabase, tokenFor } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from '../bootstrap';
import { decodeRpcStatus } from '../error-model';
import { PlatformModule } from '../platform.module';
import { grpcClient, unary, type DynamicGrpcClient } from '../testing/grpc-probe';
import { GRPC_RETRY_AFTER_KEY, grpcPeerAddress } from './throttle.guard';

process.env.LOG_LEVEL ??= 'warn';

/** Serves flowline.notification.v1 just to have a real package over gRPC. */
@Controller()
class NotificationsGrpc {
  @GrpcMethod('NotificationService', 'ListNotifications')
  @Requires('read', 'Order')
  list(request: { orderId: string }) {
    return { notifications: [{ notificationId: 'n1', orderId: request.orderId, status: 'NOTIFICATION_STATUS_SENT' }] };
  }
}

@Controller('work')
class WorkController {
  @Get()
  @Requires('read', 'Order')
  work() {
    return { ok: true };
  }
}

function appModule(url: string): DynamicModule {
  @Module({})
  class GrpcThrottledAppModule {}
  return {
    module: GrpcThrottledAppModule,
    imports: [PlatformModule.forRoot({ serviceName: 'grpc-throttle-test', database: { url, retryAttempts: 1 }, kafka: false })],
    controllers: [NotificationsGrpc, WorkController],
  };
}

describe('grpcPeerAddress', () => {
  it('reads the client address of grpc-js peers', () => {
    expect(grpcPeerAddress('127.0.0.1:5123')).toBe('127.0.0.1');
    expect(grpcPeerAddress('ipv4:10.1.2.3:5123')).toBe('10.1.2.3');
    expect(grpcPeerAddress('[::1]:5123')).toBe('::1');
    expect(grpcPeerAddress('ipv6:[fd00::7]:5123')).toBe('fd00::7');
    expect(grpcPeerAddress(undefined)).toBe('unknown');
  });
});

describe('gRPC rate limits shared by two instances (PostgreSQL store)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const instances: RunningService[] = [];
  const clients: DynamicGrpcClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('platform_grpc_throttle');
    const saved = { identity: process.env.RATE_LIMIT_PER_IDENTITY, ip: process.env.RATE_LIMIT_PER_IP };
    // 3 calls per minute per subject, 6 per client address (loopback is every caller here).
    process.env.RATE_LIMIT_PER_IDENTITY = '3';
    process.env.RATE_LIMIT_PER_IP = '6';
    try {
      for (let i = 0; i < 2; i++) {
        const svc = await bootstrapService({
          name: 'grpc-throttle-test',
          module: appModule(db.url),
          httpPort: 0,
          grpcPort: 0,
          grpcPackages: [{ package: 'flowline.notification.v1', protoPath: 'notification/v1/notification.proto' }],
          shutdownHooks: false,
        });
        instances.push(svc);
        clients.push(grpcClient(svc.grpcAddress ?? '', 'notification/v1/notification.proto', 'flowline.notification.v1.NotificationService'));
      }
    } finally {
      for (const [k, v] of [['RATE_LIMIT_PER_IDENTITY', saved.identity], ['RATE_LIMIT_PER_IP', saved.ip]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of instances) await s.close();
    await db?.drop();
  });

  const call = (i: number, token: string) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return unary<{ notifications: unknown[] }>(clients[i], 'ListNotifications', { orderId: 'o-grpc-limit' }, 5_000, md);
  };
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ServiceError);

  it('counts a subject across both instances over gRPC and answers RESOURCE_EXHAUSTED with a retry-after hint, apart from other subjects', async () => {
    const [cs, warehouse] = [await tokenFor('customer_service'), await tokenFor('warehouse')];
    for (const i of [0, 1, 0]) expect((await call(i, cs)).notifications).toHaveLength(1);
    const error = await refusal(call(1, cs));
    expect(error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const [retryAfter] = error?.metadata.get(GRPC_RETRY_AFTER_KEY) ?? [];
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(decodeRpcStatus(error?.metadata)?.errorInfo).toMatchObject({ reason: 'TOO_MANY_REQUESTS' });
    // Blocked on the first instance too; another subject has its own budget.
    expect((await refusal(call(0, cs)))?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect((await call(0, warehouse)).notifications).toHaveLength(1);
  });

  it('counts the peer address across both instances and both transports (REST and gRPC spend one per-IP budget)', async () => {
    // 6 per address: the first test made 6 calls from loopback (its identity refusals counted too).
    const gm = await tokenFor('general_manager');
    const error = await refusal(call(1, gm));
    expect(error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(Number(error?.metadata.get(GRPC_RETRY_AFTER_KEY)[0])).toBeGreaterThanOrEqual(1);
    const rest = await fetch(`${instances[0].httpUrl}/work`, { headers: { authorization: `Bearer ${gm}` } });
    expect(rest.status).toBe(429);
  });
});
