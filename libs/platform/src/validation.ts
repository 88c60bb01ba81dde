import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

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
 * The global pipe: strips nothing silently (unknown fields are an error), converts payloads to DTO
 * classes, and reports every offending field with its path and constraint.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
