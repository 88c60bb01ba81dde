import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';
import { RequestValidationError } from './validation';

/**
 * Idempotency-Key / request_id helpers shared by every service that replays stored replies:
 * a repeat of a key is a replay only when its request hashes the same; the same key with another
 * request is refused with IDEMPOTENCY_KEY_REUSED (HTTP 422, gRPC INVALID_ARGUMENT).
 */
export const IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED';

export function idempotencyKeyReused(key: string): DomainError {
  return new DomainError(IDEMPOTENCY_KEY_REUSED, `Idempotency-Key ${key} was used for a different request`, { field: 'Idempotency-Key' }, 'invalid');
}

/** JSON with object keys sorted, so two equal bodies hash the same whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of a request. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** A missing or malformed header, reported like a body field (400, names the header). */
export function headerError(header: string, constraint: string, message: string): RequestValidationError {
  return new RequestValidationError([{ field: header, constraint, message }]);
}

/**
 * The Idempotency-Key header of a command: absent (or empty) is no key, unless `required`; a key
 * is 1-200 printable ASCII characters (400 naming the header otherwise). Every service's commands
 * take the same keys.
 */
export function checkIdempotencyKey(value: string | undefined, required = false): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw headerError('Idempotency-Key', 'required', 'Idempotency-Key header is required (a unique key per order submission)');
    return undefined;
  }
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw headerError('Idempotency-Key', 'format', 'Idempotency-Key must be 1-200 printable ASCII characters');
  return value;
}
