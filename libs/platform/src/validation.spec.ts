import type { ValidationError } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError } from '@flowline/domain';
import { describe, expect, it } from 'vitest';
import { grpcStatusOfDomainError, httpStatusOfDomainError, toGrpcError } from './error-model';
import { flattenValidationErrors, RequestValidationError } from './validation';

const error = (property: string, constraints?: Record<string, string>, children: ValidationError[] = []): ValidationError => ({
  property,
  constraints,
  children,
});

describe('flattenValidationErrors', () => {
  it('gives each violated constraint its own entry with the full dotted path, array indexes included', () => {
    const errors = [
      error('name', { isLength: 'name must be longer than or equal to 1 characters' }),
      error('lines', undefined, [error('0', undefined, [error('quantity', { min: 'quantity must not be less than 1', isInt: 'quantity must be an integer' })])]),
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'name', constraint: 'isLength', message: 'name must be longer than or equal to 1 characters' },
      { field: 'lines.0.quantity', constraint: 'min', message: 'quantity must not be less than 1' },
      { field: 'lines.0.quantity', constraint: 'isInt', message: 'quantity must be an integer' },
    ]);
  });

  it('returns nothing for no errors', () => {
    expect(flattenValidationErrors([])).toEqual([]);
  });
});

describe('RequestValidationError', () => {
  it('is a 400 whose body lists the violations', () => {
    const e = new RequestValidationError([{ field: 'colour', constraint: 'whitelistValidation', message: 'property colour should not exist' }]);
    expect(e.getStatus()).toBe(400);
    expect(e.getResponse()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'colour', constraint: 'whitelistValidation' }] });
  });
});

describe('DomainError mapping', () => {
  it('maps a conflict to HTTP 409 and gRPC FAILED_PRECONDITION', () => {
    const e = new DomainError('order_already_paid', 'already paid');
    expect(httpStatusOfDomainError(e)).toBe(409);
    expect(grpcStatusOfDomainError(e)).toBe(GrpcStatus.FAILED_PRECONDITION);
  });

  it('maps not_found to 404 / NOT_FOUND and invalid to 422 / INVALID_ARGUMENT', () => {
    expect(httpStatusOfDomainError({ kind: 'not_found' })).toBe(404);
    expect(grpcStatusOfDomainError({ kind: 'not_found' })).toBe(GrpcStatus.NOT_FOUND);
    expect(httpStatusOfDomainError({ kind: 'invalid' })).toBe(422);
    expect(grpcStatusOfDomainError({ kind: 'invalid' })).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('carries the stable code and details in gRPC metadata', () => {
    const grpc = toGrpcError(new DomainError('stock_short', 'not enough', { sku: 'A' }));
    expect(grpc?.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(grpc?.metadata.get('x-domain-code')).toEqual(['STOCK_SHORT']);
    expect(JSON.parse(String(grpc?.metadata.get('x-domain-details')[0]))).toEqual({ sku: 'A' });
  });

  it('leaves other errors to the default handling', () => {
    expect(toGrpcError(new Error('boom'))).toBeUndefined();
  });
});
