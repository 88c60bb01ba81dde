import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, dependencyUnavailableError, unavailableDependency } from './dependency-errors';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('errors of an unavailable dependency', () => {
  it('knows PostgreSQL restarting, refusing and dropping connections', () => {
    expect(unavailableDependency(pgError('57P01', 'terminating connection due to administrator command'))).toBe('postgres');
    expect(unavailableDependency(pgError('57P03', 'the database system is starting up'))).toBe('postgres');
    expect(unavailableDependency(pgError('08006'))).toBe('postgres');
    expect(unavailableDependency(pgError('53300', 'sorry, too many clients already'))).toBe('postgres');
    expect(unavailableDependency(new Error('Connection terminated unexpectedly'))).toBe('postgres');
    expect(unavailableDependency(new Error('timeout exceeded when trying to connect'))).toBe('postgres');
    // TypeORM wraps the driver's error; Node wraps a refused dual-stack connect in an AggregateError.
    expect(unavailableDependency(Object.assign(new Error('query failed'), { driverError: pgError('57P01') }))).toBe('postgres');
    expect(unavailableDependency(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], ''))).toBe('upstream');
    expect(unavailableDependency(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe('upstream');
  });

  it('knows a broker that cannot be reached', () => {
    expect(unavailableDependency(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }))).toBe('kafka');
    expect(unavailableDependency(Object.assign(new Error('retries'), { name: 'KafkaJSNumberOfRetriesExceeded' }))).toBe('kafka');
  });

  it('takes a dependency the code itself says is away (a consumer not started yet)', () => {
    expect(unavailableDependency(new DependencyUnavailableError('kafka', 'projector not started'))).toBe('kafka');
    expect(unavailableDependency(new Error('query failed', { cause: new DependencyUnavailableError('postgres', 'x') }))).toBe('postgres');
  });

  it('leaves bugs and refusals alone: a constraint violation, a syntax error, a TypeError are not "unavailable"', () => {
    expect(unavailableDependency(pgError('23505', 'duplicate key'))).toBeUndefined();
    expect(unavailableDependency(pgError('42601', 'syntax error'))).toBeUndefined();
    expect(unavailableDependency(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined();
    expect(unavailableDependency(undefined)).toBeUndefined();
    // A code that only looks like a SQLSTATE, without a PostgreSQL severity.
    expect(unavailableDependency(Object.assign(new Error('x'), { code: '08006' }))).toBeUndefined();
  });

  it('answers 503 / UNAVAILABLE, asking for a retry with the same Idempotency-Key', () => {
    expect(dependencyUnavailableError('postgres')).toMatchObject({ reason: 'DEPENDENCY_UNAVAILABLE', httpStatus: 503, grpcStatus: 14, details: { dependency: 'postgres' } });
    expect(dependencyUnavailableError('postgres').message).toContain('same Idempotency-Key');
  });
});
