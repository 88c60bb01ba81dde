import { CHANNELS } from '@flowline/contracts';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { SALES_DIMENSIONS, type SalesDimension } from '../../../application/sales-queries';

export class SalesQueryDto {
  @ApiProperty({ enum: SALES_DIMENSIONS, description: 'Bucket by: day, hour, weekday (1 = Monday), channel, shop, sku or province' })
  @IsIn(SALES_DIMENSIONS as unknown as string[])
  by!: SalesDimension;

  @ApiProperty({ description: 'Paid at or after (ISO-8601)', example: '2026-06-01T00:00:00+08:00' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Paid before (ISO-8601)', example: '2026-07-01T00:00:00+08:00' }) @IsISO8601({ strict: true }) to!: string;

  @ApiPropertyOptional({ enum: CHANNELS }) @IsOptional() @IsIn(CHANNELS as unknown as string[]) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) shopId?: string;
}

export class ChecksumQueryDto {
  @ApiPropertyOptional({ description: 'Schema to hash: analytics (default) or a kept rebuild schema analytics_rb_<id>' })
  @IsOptional()
  @Matches(/^analytics(_rb_[a-z0-9_]+)?$/)
  schema?: string;
}

export class StartRebuildDto {
  @ApiPropertyOptional({ description: 'Swap the rebuilt facts in (default false: compare checksums with live, then drop them)' })
  @IsOptional()
  @IsBoolean()
  swap?: boolean;

  @ApiPropertyOptional({ description: 'Without swap: keep the rebuild schema for inspection' }) @IsOptional() @IsBoolean() keepRebuild?: boolean;
}

export class RfmQueryDto {
  @ApiProperty({ description: 'Orders paid at or after (ISO-8601)' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Score as of this moment; orders paid before it (ISO-8601)' }) @IsISO8601({ strict: true }) asOf!: string;
}

export class SkuPairsQueryDto {
  @ApiProperty({ description: 'Paid at or after (ISO-8601)' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Paid before (ISO-8601)' }) @IsISO8601({ strict: true }) to!: string;
  @ApiPropertyOptional({ default: 2, description: 'Fewest baskets a pair must appear in' }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) minCount?: number;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}
