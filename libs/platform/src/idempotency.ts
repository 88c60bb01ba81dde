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

/**
 * JSON with object keys sorted, so two equal bodies hash the same whatever their key order. Its
 * text must never change: stored request hashes are compared with it on every retry. Built into
 * one list of parts (no entry arrays, filtered copies or joined strings per object): it runs on
 * every command's body (issue #10, a sampled allocation profile of order-intake).
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join('');
}

function writeCanonical(value: unknown, parts: string[]): void {
  if (value === null || typeof value !== 'object') {
    parts.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(',');
      // A hole wrote nothing in the first version (map keeps it, join makes it empty).
      if (i in value) writeCanonical(value[i], parts);
    }
    parts.push(']');
    return;
  }
  const object = value as Record<string, unknown>;
  // Default sort: UTF-16 code unit order, as `a < b` compares strings.
  const keys = Object.keys(object).sort();
  parts.push('{');
  let first = true;
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    if (!first) parts.push(',');
    first = false;
    parts.push(JSON.stringify(k), ':');
    writeCanonical(v, parts);
  }
  parts.push('}');
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
