import type { PipeTransform } from '@nestjs/common';
import { RequestValidationError } from './validation';

/**
 * Checks of request values that DTO classes do not cover on gRPC (ids, enum values, page sizes):
 * a bad value is refused with INVALID_ARGUMENT / 400 naming the field, never silently dropped,
 * clamped or defaulted. Field names are JSON paths (`orderId`, `page.pageSize`, `stages.1`); the
 * error model turns them into proto paths (`order_id`, `page.page_size`, `stages[1]`) on gRPC.
 */

/**
 * Ids Flowline issues or accepts: ULIDs, channel order numbers, SKUs (a seller's own codes may be in
 * Chinese), `stock-<sku>@<warehouse>`: letters and digits of any script plus `. _ : @ / + -`, 1-128
 * characters, starting with a letter or digit. Whitespace, control characters, quotes, `?`, `#`,
 * `%` and the like are malformed.
 */
export const ID_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}._:@/+-]{0,127}$/u;

function refuse(field: string, constraint: string, message: string): never {
  throw new RequestValidationError([{ field, constraint, message }]);
}

/** A required id: empty -> `required`, anything outside {@link ID_PATTERN} -> `format`. */
export function requireId(field: string, value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') refuse(field, 'required', `${field} is required`);
  if (!ID_PATTERN.test(value)) refuse(field, 'format', `${field} must be 1-128 characters: letters, digits and . _ : @ / + - (starting with a letter or digit)`);
  return value;
}

/** An optional id: empty means absent; otherwise as {@link requireId}. */
export function optionalId(field: string, value: string | undefined | null): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : requireId(field, value);
}

export interface PageSizeRule {
  /** Largest page a client may ask for. */
  max: number;
}

/**
 * A page size: 0 / absent means the server's default (proto3 cannot tell 0 from unset), 1..max is
 * taken as is, anything else (negative, fractional, above max) is refused.
 */
export function pageSize(field: string, value: number | undefined | null, rule: PageSizeRule): number | undefined {
  if (value === undefined || value === null || value === 0) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > rule.max) refuse(field, 'range', `${field} must be an integer from 1 to ${rule.max} (0 or absent: the default)`);
  return value;
}

/**
 * One enum value from a proto-loader request (`enums: String`): a name in `allowed` maps to its
 * value; the UNSPECIFIED value (or empty) is `undefined` when `optional`, else refused; a number
 * (a value this server's proto does not know) or any other name is refused.
 */
export function enumValue<T>(field: string, value: unknown, allowed: Readonly<Record<string, T>>, opts: { optional?: boolean } = {}): T | undefined {
  if (value === undefined || value === null || value === '' || (typeof value === 'string' && value.endsWith('_UNSPECIFIED')) || value === 0) {
    if (opts.optional) return undefined;
    refuse(field, 'required', `${field} is required`);
  }
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(allowed, value)) return allowed[value];
  return refuse(field, 'isIn', `${field} must be one of ${Object.keys(allowed).join(', ')} (got ${String(value)})`);
}

/** Repeated enum values: each as {@link enumValue}; UNSPECIFIED in a list is refused too. */
export function enumValues<T>(field: string, values: readonly unknown[] | undefined | null, allowed: Readonly<Record<string, T>>): T[] {
  return (values ?? []).map((v, i) => enumValue(`${field}.${i}`, v, allowed) as T);
}

/** Nest pipe for a path parameter holding an id: `@Param('orderId', new IdParam('orderId'))`. */
export class IdParam implements PipeTransform<string, string> {
  constructor(private readonly field: string) {}
  transform(value: string): string {
    return requireId(this.field, value);
  }
}
