import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ApiError } from './error-model';

/**
 * Errors that say a dependency (PostgreSQL, Kafka) cannot be reached right now, not that the
 * request or the code is wrong: a restart or failover of the database, a broker away. The client
 * should retry (with the same Idempotency-Key); they answer 503 / UNAVAILABLE with Retry-After,
 * never a bare 500.
 */

/** Node socket errors of a connection that could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs of an unavailable server: class 08 (connection exception), 57P01-57P03
 * (terminated by an administrator or a crash, cannot connect now: starting up / shutting down),
 * 53300 (too many connections).
 */
function unavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** pg and pg-pool messages for a connection lost or never obtained (they carry no code). */
const PG_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/** kafkajs errors of a broker that cannot be reached (an admin call behind an HTTP endpoint). */
const KAFKA_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSBrokerNotFound', 'KafkaJSRequestTimeoutError', 'KafkaJSConnectionClosedError']);

export type Dependency = 'postgres' | 'kafka' | 'upstream';

/**
 * Thrown by code that knows a dependency is away before calling it (a consumer that has not
 * started yet because the broker is away): answered 503 DEPENDENCY_UNAVAILABLE like the errors
 * recognised below.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
  ) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/**
 * Which dependency `error` says is unavailable, or undefined. A socket error without more to go on
 * is `upstream` (the database's pool connect, or a provider an adapter calls). Follows `cause`,
 * `driverError` (TypeORM) and AggregateError members.
 */
export function unavailableDependency(error: unknown, depth = 0): Dependency | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  if (error instanceof DependencyUnavailableError) return error.dependency;
  const e = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown; severity?: unknown };
  if (typeof e.name === 'string' && KAFKA_NAMES.has(e.name)) return 'kafka';
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return unavailableDependency(e.cause, depth + 1) ?? 'kafka';
  if (typeof e.code === 'string') {
    if (SOCKET_CODES.has(e.code)) return 'upstream';
    // A PostgreSQL error carries its severity next to the SQLSTATE.
    if (typeof e.severity === 'string' && unavailableSqlState(e.code)) return 'postgres';
  }
  if (typeof e.message === 'string' && PG_MESSAGES.some((m) => (e.message as string).includes(m))) return 'postgres';
  for (const inner of [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = unavailableDependency(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Seconds a client is asked to wait before retrying a request refused for an unavailable dependency. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

/** The 503 / UNAVAILABLE answer for a request that met an unavailable dependency. */
export function dependencyUnavailableError(dependency: Dependency): ApiError {
  const what = dependency === 'postgres' ? 'the database' : dependency === 'kafka' ? 'the message broker' : 'a service this request needs';
  return {
    reason: 'DEPENDENCY_UNAVAILABLE',
    message: `${what} is unavailable right now; retry in a few seconds (with the same Idempotency-Key for a command: it runs at most once)`,
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    details: { dependency },
    violations: [],
  };
}
