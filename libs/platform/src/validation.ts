import { type ArgumentMetadata, BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { isCleanText } from './text';

/** One broken rule on one field of a request. */
export interface FieldViolation {
  /** Dotted path from the body root, array indexes included: `lines.0.quantity`. */
  field: string;
  /** class-validator constraint name: `min`, `isInt`, `whitelistValidation`, ... */
  constraint: string;
  message: string;
}

/** Flattens class-validator's nested errors into one violation per field and constraint. */
export function flattenValidationErrors(errors: readonly ValidationError[], parentPath = ''): FieldViolation[] {
  const out: FieldViolation[] = [];
  for (const error of errors) {
    const field = parentPath ? `${parentPath}.${error.property}` : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      out.push({ field, constraint, message });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/** The HTTP 400 body of a request that failed validation. */
export interface ValidationErrorBody {
  statusCode: 400;
  code: 'validation_failed';
  message: string;
  errors: FieldViolation[];
}

/** A request that failed DTO validation: HTTP 400, gRPC INVALID_ARGUMENT. */
export class RequestValidationError extends BadRequestException {
  constructor(readonly violations: FieldViolation[]) {
    super({
      statusCode: 400,
      code: 'validation_failed',
      message: `invalid request: ${violations.map((v) => `${v.field} (${v.constraint})`).join(', ')}`,
      errors: violations,
    } satisfies ValidationErrorBody);
    this.name = 'RequestValidationError';
  }
}

/**
 * Every string in a request value (object keys included) that PostgreSQL or a Kafka message could
 * not hold: NUL or a lone surrogate. Paths as class-validator's (`lines.0.sku`; `body` for a bare
 * string). Stops after `max` findings.
 */
export function uncleanTextFields(value: unknown, path = '', max = 20, out: FieldViolation[] = [], depth = 0): FieldViolation[] {
  if (out.length >= max || depth > 64) return out;
  const at = (key: string) => (path ? `${path}.${key}` : key);
  if (typeof value === 'string') {
    if (!isCleanText(value)) {
      const field = path || 'body';
      out.push({ field, constraint: 'isCleanText', message: `${field} must not contain NUL characters or invalid Unicode (lone surrogates)` });
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => uncleanTextFields(v, at(String(i)), max, out, depth + 1));
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (out.length >= max) break;
      // A key that cannot be stored is named by where it sits (its own text cannot be shown).
      if (!isCleanText(k)) out.push({ field: at('(key)'), constraint: 'isCleanText', message: `${path || 'a'} key holds NUL characters or invalid Unicode` });
      else uncleanTextFields(v, at(k), max, out, depth + 1);
    }
  }
  return out;
}

/**
 * The global pipe: strips nothing silently (unknown fields are an error), converts payloads to DTO
 * classes, and reports every offending field with its path and constraint. Before any DTO check,
 * it refuses NUL and lone surrogates anywhere in a body, query or path parameter (400 naming the
 * field), whether or not the DTO marks the field: PostgreSQL text and jsonb cannot hold NUL, and a
 * DTO without the check turned such a request into a 500 (found by an OpenAPI-driven probe).
 */
class FlowlineValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      const unclean = uncleanTextFields(value, metadata.data ?? '');
      if (unclean.length) throw new RequestValidationError(unclean);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new FlowlineValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
