import { Transform } from 'class-transformer';

/**
 * Text a service may store and publish: no NUL (PostgreSQL text cannot hold it, so it ended in a
 * 500) and well-formed UTF-16 (a lone surrogate cannot be encoded as UTF-8 and broke the insert or
 * the Kafka message). Every request is checked with it before any DTO check: the global validation
 * pipe (REST) and the gRPC interceptor (see validation.ts).
 */
export function isCleanText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Identifiers compared for equality (channel order ids, SKUs, warehouse ids) are NFKC-normalised
 * on the way in: a fullwidth `１２３` is `123`, so it cannot bypass a uniqueness claim.
 */
export function NormalizeIdentifier(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.normalize('NFKC') : value));
}
