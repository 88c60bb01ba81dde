import type { PipeTransform } from '@nestjs/common';
import { applyDecorators } from '@nestjs/common';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { Transform } from 'class-transformer';
import { isSku, normalizeSku, SKU_RULE, skuProblem } from '@flowline/contracts';
import { RequestValidationError } from './validation';

/** DTO property holding a SKU (the one form, libs/contracts `skuProblem`): NFKC-normalised and trimmed (normalizeSku), then checked against the one SKU form (400 naming the field). */
export function IsSku(options?: ValidationOptions): PropertyDecorator {
  const check: PropertyDecorator = (target, propertyName) =>
    registerDecorator({
      name: 'isSku',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (a) => `${a.property} ${skuProblem(a.value) ?? 'is not a SKU'} (a SKU is ${SKU_RULE})`, ...options },
      validator: { validate: (value: unknown) => isSku(value) },
    });
  return applyDecorators(Transform(({ value }: { value: unknown }) => normalizeSku(value)), check) as PropertyDecorator;
}

function refuse(field: string, value: unknown): never {
  throw new RequestValidationError([{ field, constraint: 'isSku', message: `${field} ${skuProblem(value) ?? 'is not a SKU'} (a SKU is ${SKU_RULE})` }]);
}

/** A required SKU from a path, query or gRPC field: NFKC-normalised and checked; 400 / INVALID_ARGUMENT naming the field. */
export function requireSku(field: string, value: string | undefined | null): string {
  const v = normalizeSku(value);
  if (!isSku(v)) refuse(field, v);
  return v;
}

/** An optional SKU: empty means absent; otherwise as {@link requireSku}. */
export function optionalSku(field: string, value: string | undefined | null): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : requireSku(field, value);
}

/** Nest pipe for a path parameter holding a SKU: `@Param('sku', new SkuParam())`. */
export class SkuParam implements PipeTransform<string, string> {
  constructor(private readonly field = 'sku') {}
  transform(value: string): string {
    return requireSku(this.field, value);
  }
}
