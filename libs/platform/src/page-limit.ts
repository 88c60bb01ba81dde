import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * A list query's `limit`: optional, an integer from 1 to `max` (a query string turned into a
 * number first), `defaultSize` when absent; a bad value is a 400 naming `limit`.
 */
export function PageLimit(defaultSize: number, max = 500): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ default: defaultSize, maximum: max }), IsOptional(), Type(() => Number), IsInt(), Min(1), Max(max)) as PropertyDecorator;
}
