/**
 * One classification of consumer failures, used by every consumer loop (and the relay).
 *
 * - `infrastructure`: the message is fine, something it needs is away (database connection refused
 *   or terminated, admin shutdown 57P01, too many connections 53300, serialization failure 40001,
 *   deadlock 40P01, a database not accepting connections, Kafka broker unavailable). Retried without
 *   limit with capped backoff while the consumer reports itself not ready; never dead-lettered.
 * - `conflict`: the write lost a race to a concurrent one (WrongExpectedVersion, OutOfOrderAppend):
 *   the whole transaction runs again on the new state, without limit (it converges).
 * - `content`: the message fails on its own content (decode error, a domain refusal, a data error,
 *   anything unknown). Retried a bounded number of times, then dead-lettered.
 */
export type FailureClass = 'infrastructure' | 'conflict' | 'content';

/** SQLSTATEs (exact) that say "try again later", not "this message is wrong". */
const INFRA_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement timeout)
  '57P01', // admin_shutdown (backend terminated)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '25P03', // idle_in_transaction_session_timeout
]);
/** SQLSTATE classes: 08 connection exception, 53 insufficient resources, 58 system error. */
const INFRA_SQLSTATE_CLASSES = ['08', '53', '58'];

const INFRA_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ENETDOWN']);

const INFRA_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection error/i,
  /not currently accepting connections/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
  /client has encountered a connection error and is not queryable/i,
  /connection (?:is )?(?:closed|ended)/i,
  /broker not (?:found|available)/i,
];

/** Kafka errors that say the cluster is unreachable or busy right now. */
const INFRA_KAFKA_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
  driverError?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

function isInfrastructureOne(e: ErrorLike): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (code) {
    if (INFRA_SQLSTATES.has(code) || INFRA_ERRNO.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && INFRA_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  const name = typeof e.name === 'string' ? e.name : '';
  if (INFRA_KAFKA_NAMES.has(name)) return true;
  if (name.startsWith('KafkaJS') && e.retriable === true) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return INFRA_MESSAGES.some((re) => re.test(message));
}

/** Walks `cause`, TypeORM's `driverError`, kafkajs' `originalError` and AggregateError's `errors`. */
export function isInfrastructureError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 6) return false;
  const e = error as ErrorLike;
  // A domain refusal never changes on retry, whatever it wraps.
  if (e.name === 'DomainError' || e.name === 'EnvelopeDecodeError') return false;
  if (isInfrastructureOne(e)) return true;
  for (const inner of [e.cause, e.driverError, e.originalError]) if (isInfrastructureError(inner, depth + 1)) return true;
  if (Array.isArray(e.errors)) return e.errors.some((x) => isInfrastructureError(x, depth + 1));
  return false;
}

/**
 * A write that lost a race (optimistic concurrency on a stream, or the event log's commit order):
 * the transaction is run again on the new state, without limit and without touching readiness.
 */
const CONFLICT_NAMES = new Set(['WrongExpectedVersion', 'OutOfOrderAppend']);

export function isConflictError(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 6) return false;
  const e = error as ErrorLike;
  if (typeof e.name === 'string' && CONFLICT_NAMES.has(e.name)) return true;
  return isConflictError(e.cause, depth + 1);
}

export function classifyFailure(error: unknown): FailureClass {
  if (isConflictError(error)) return 'conflict';
  return isInfrastructureError(error) ? 'infrastructure' : 'content';
}
