import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';

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
