import { describe, expect, it } from 'vitest';
import { bodyLimitFromEnv, databasePoolIdleMillis, databasePoolLifetimeSeconds, databasePoolMax, databasePoolTimings, envPort, kafkaBrokersFromEnv, redactUrl, resolveDatabaseUrl, serviceDatabaseName } from './config';
import { quoteIdentifier } from './database';
import { resolvePlatformConfig } from './platform.module';

describe('serviceDatabaseName', () => {
  it('names each service its own database', () => {
    expect(serviceDatabaseName('order-intake')).toBe('flowline_order_intake');
    expect(serviceDatabaseName('tracking')).toBe('flowline_tracking');
  });
});

describe('resolveDatabaseUrl', () => {
  it('uses the local server and the service database without DATABASE_URL', () => {
    expect(resolveDatabaseUrl('flowline_inventory', {})).toBe('postgres://postgres@127.0.0.1:5432/flowline_inventory');
  });

  it('keeps DATABASE_URL\'s server but puts the service in its own database when the URL names the admin database', () => {
    expect(resolveDatabaseUrl('flowline_inventory', { DATABASE_URL: 'postgres://app:pw@db.internal:6543/postgres' })).toBe(
      'postgres://app:pw@db.internal:6543/flowline_inventory',
    );
    expect(resolveDatabaseUrl('flowline_inventory', { DATABASE_URL: 'postgres://db.internal:6543' })).toBe(
      'postgres://db.internal:6543/flowline_inventory',
    );
  });

  it('takes DATABASE_URL whole when it names a database', () => {
    expect(resolveDatabaseUrl('flowline_inventory', { DATABASE_URL: 'postgres://db:5432/inv_prod?sslmode=require' })).toBe(
      'postgres://db:5432/inv_prod?sslmode=require',
    );
  });

  it('lets an explicit URL win over the environment', () => {
    expect(resolveDatabaseUrl('flowline_inventory', { DATABASE_URL: 'postgres://db:5432/x' }, 'postgres://h:1/t_test')).toBe('postgres://h:1/t_test');
  });
});

describe('resolvePlatformConfig', () => {
  it('resolves the service database and Kafka brokers from the environment', () => {
    const config = resolvePlatformConfig({ serviceName: 'order-intake' }, { KAFKA_BROKERS: 'k1:9092, k2:9092' });
    expect(config.database).toEqual({ url: 'postgres://postgres@127.0.0.1:5432/flowline_order_intake', name: 'flowline_order_intake' });
    expect(config.kafka).toEqual({ brokers: ['k1:9092', 'k2:9092'], clientId: 'order-intake' });
  });

  it('leaves out what the service turns off', () => {
    const config = resolvePlatformConfig({ serviceName: 'notification', database: false, kafka: false }, {});
    expect(config.database).toBeNull();
    expect(config.kafka).toBeNull();
  });
});

describe('envPort', () => {
  it('takes the port from the environment, else the fixed default', () => {
    expect(envPort('HTTP_PORT', 3001, { HTTP_PORT: '8080' })).toBe(8080);
    expect(envPort('HTTP_PORT', 3001, {})).toBe(3001);
    expect(envPort('GRPC_PORT', 50051, { GRPC_PORT: '0' })).toBe(0);
  });

  it('refuses what is not a TCP port', () => {
    expect(() => envPort('HTTP_PORT', 3001, { HTTP_PORT: 'abc' })).toThrow(/not a TCP port/);
    expect(() => envPort('HTTP_PORT', 3001, { HTTP_PORT: '70000' })).toThrow(/not a TCP port/);
  });
});

describe('environment helpers', () => {
  it('defaults Kafka to the local broker', () => {
    expect(kafkaBrokersFromEnv({})).toEqual(['127.0.0.1:9092']);
  });

  it('limits bodies to 1 MiB unless BODY_LIMIT_BYTES says otherwise', () => {
    expect(bodyLimitFromEnv({})).toBe(1_048_576);
    expect(bodyLimitFromEnv({ BODY_LIMIT_BYTES: '2048' })).toBe(2048);
    expect(() => bodyLimitFromEnv({ BODY_LIMIT_BYTES: '-1' })).toThrow();
  });

  it('keeps idle pool connections 60 s unless DATABASE_POOL_IDLE_MS says otherwise (0 = for the life of the pool)', () => {
    expect(databasePoolIdleMillis({})).toBe(60_000);
    expect(databasePoolIdleMillis({ DATABASE_POOL_IDLE_MS: '0' })).toBe(0);
    expect(databasePoolIdleMillis({ DATABASE_POOL_IDLE_MS: ' 15000 ' })).toBe(15_000);
    expect(() => databasePoolIdleMillis({ DATABASE_POOL_IDLE_MS: '-1' })).toThrow(/DATABASE_POOL_IDLE_MS=-1/);
    expect(() => databasePoolIdleMillis({ DATABASE_POOL_IDLE_MS: '1m' })).toThrow(/DATABASE_POOL_IDLE_MS/);
    expect(() => databasePoolIdleMillis({ DATABASE_POOL_IDLE_MS: '3000000000' })).toThrow(/0 to 2147483647/);
  });

  it('DATABASE_POOL_LIFETIME_S bounds a connection\'s life (default 300 s, 0 = the pool\'s life) and refuses what is not whole seconds', () => {
    expect(databasePoolLifetimeSeconds({})).toBe(300);
    expect(databasePoolLifetimeSeconds({ DATABASE_POOL_LIFETIME_S: '0' })).toBe(0);
    expect(databasePoolLifetimeSeconds({ DATABASE_POOL_LIFETIME_S: ' 900 ' })).toBe(900);
    expect(() => databasePoolLifetimeSeconds({ DATABASE_POOL_LIFETIME_S: '-5' })).toThrow(/DATABASE_POOL_LIFETIME_S=-5/);
    expect(() => databasePoolLifetimeSeconds({ DATABASE_POOL_LIFETIME_S: '1.5' })).toThrow(/whole number of seconds/);
    expect(() => databasePoolLifetimeSeconds({ DATABASE_POOL_LIFETIME_S: '3000000' })).toThrow(/0 to 2147483/);
    expect(databasePoolTimings({ DATABASE_POOL_IDLE_MS: '5000', DATABASE_POOL_LIFETIME_S: '60' })).toEqual({ idleTimeoutMillis: 5_000, maxLifetimeSeconds: 60 });
  });

  it('DATABASE_POOL_MAX lowers a pool below its own size, never raises it, and refuses a non-positive value', () => {
    expect(databasePoolMax(10, {})).toBe(10);
    expect(databasePoolMax(10, { DATABASE_POOL_MAX: '4' })).toBe(4);
    expect(databasePoolMax(4, { DATABASE_POOL_MAX: '8' })).toBe(4);
    expect(() => databasePoolMax(10, { DATABASE_POOL_MAX: '0' })).toThrow(/DATABASE_POOL_MAX=0/);
    expect(() => databasePoolMax(10, { DATABASE_POOL_MAX: 'four' })).toThrow(/not a positive integer/);
  });

  it('masks passwords in URLs it prints', () => {
    expect(redactUrl('postgres://app:secret@db:5432/x')).toBe('postgres://app:***@db:5432/x');
  });

  it('quotes SQL identifiers, doubling embedded quotes', () => {
    expect(quoteIdentifier('flowline_inventory')).toBe('"flowline_inventory"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});
