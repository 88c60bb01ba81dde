import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';

/** A response kept for an idempotency key, replayed byte for byte on a repeat. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Idempotency-Key / request_id handling. `once` runs `execute` at most once per (scope, key):
 * - the same key with the same request hash gets the stored response (`replayed: true`);
 * - the same key with another request is refused (IDEMPOTENCY_KEY_REUSED, 422);
 * - concurrent calls with one key run `execute` once; the others wait and get its response.
 * Only successful responses are stored: a refused or failed request may be retried with the key.
 */
export interface IdempotencyStore {
  once(scope: string, key: string, requestHash: string, execute: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }>;
}

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

export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
