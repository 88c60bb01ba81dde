import type { ValidationError } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError } from '@flowline/domain';
import { describe, expect, it } from 'vitest';
import { grpcStatusOfDomainError, httpStatusOfDomainError, toGrpcError } from './error-model';
import { IsString } from 'class-validator';
import { createValidationPipe, flattenValidationErrors, RequestValidationError, uncleanTextFields } from './validation';

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
    expect(httpStatusOfDomainError({ kind: 'forbidden' })).toBe(403);
    expect(grpcStatusOfDomainError({ kind: 'forbidden' })).toBe(GrpcStatus.PERMISSION_DENIED);
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

describe('the global validation pipe and text a database cannot hold', () => {
  class Dto {
    @IsString() note!: string;
  }
  const pipe = createValidationPipe();

  it('names every string holding NUL or a lone surrogate, in keys, arrays and nested objects, with its path', () => {
    const found = uncleanTextFields({ a: 'ok', b: 'x\u0000', c: [{ d: 'fine' }, { d: 'bad \ud800' }], e: { ['k\u0000']: 1 }, f: ['\udc00'] });
    expect(found.map((v) => v.field)).toEqual(['b', 'c.1.d', 'e.(key)', 'f.0']);
    expect(found.every((v) => v.constraint === 'isCleanText')).toBe(true);
    expect(uncleanTextFields('a\u0000b')[0].field).toBe('body');
    expect(uncleanTextFields({ emoji: '订单 😀', n: 1, z: null, b: true })).toEqual([]);
  });

  it('refuses a body field, query value or path parameter holding NUL with 400 naming it, before any DTO check (a DTO without the check passed it to the database: 500)', async () => {
    const body = pipe.transform({ note: 'a\u0000' }, { type: 'body', metatype: Dto, data: '' });
    await expect(body).rejects.toBeInstanceOf(RequestValidationError);
    await expect(body).rejects.toMatchObject({ violations: [{ field: 'note', constraint: 'isCleanText' }] });
    await expect(pipe.transform('x\u0000', { type: 'param', metatype: String, data: 'orderId' })).rejects.toMatchObject({ violations: [{ field: 'orderId' }] });
    await expect(pipe.transform({ q: '\ud800' }, { type: 'query', metatype: Object, data: undefined })).rejects.toMatchObject({ violations: [{ field: 'q' }] });
    await expect(pipe.transform({ note: '张三 ok' }, { type: 'body', metatype: Dto, data: '' })).resolves.toBeInstanceOf(Dto);
  });
});
