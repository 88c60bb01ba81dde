import { Transform } from 'class-transformer';
import { getMetadataStorage, registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * Text a service may store and publish: no NUL (PostgreSQL text cannot hold it, so it ended in a
 * 500) and well-formed UTF-16 (a lone surrogate cannot be encoded as UTF-8 and broke the insert or
 * the Kafka message).
 */
export function isCleanText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function clean(value: unknown): boolean {
  if (typeof value === 'string') return isCleanText(value);
  if (Array.isArray(value)) return value.every((v) => typeof v !== 'string' || isCleanText(v));
  return true;
}

/** Rejects a string (or strings in an array) holding NUL or invalid Unicode; other values pass. */
export function IsCleanText(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCleanText',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must not contain NUL characters or invalid Unicode (lone surrogates)`, ...options },
      validator: { validate: (value: unknown) => clean(value) },
    });
}

/**
 * Adds {@link IsCleanText} to every validated property of the given DTO classes, so no string
 * field can be forgotten: a request carrying NUL or a lone surrogate gets 400 naming the field.
 * Call it once per DTO file after the classes.
 */
export function cleanTextEverywhere(...classes: (new (...args: never[]) => unknown)[]): void {
  const storage = getMetadataStorage();
  for (const cls of classes) {
    const properties = new Set(storage.getTargetValidationMetadatas(cls, '', true, false).map((m) => m.propertyName));
    for (const property of properties) IsCleanText()(cls.prototype as object, property);
  }
}

/**
 * Identifiers compared for equality (channel order ids, SKUs, warehouse ids) are NFKC-normalised
 * on the way in: a fullwidth `１２３` is `123`, so it cannot bypass a uniqueness claim.
 */
export function NormalizeIdentifier(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.normalize('NFKC') : value));
}
