import { CHANNELS } from '@flowline/contracts';
import { ID_PATTERN, IsSku } from '@flowline/platform';
import { SETTLEMENT_PLATFORMS, type SettlementPlatform } from '../../../domain/reconciliation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBase64, IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { SALES_DIMENSIONS, type SalesDimension } from '../../../application/sales-queries';

export class SalesQueryDto {
  @ApiProperty({ enum: SALES_DIMENSIONS, description: 'Bucket by: day, hour, weekday (1 = Monday), channel, shop, sku or province' })
  @IsIn(SALES_DIMENSIONS as unknown as string[])
  by!: SalesDimension;

  @ApiProperty({ description: 'Placed at or after (ISO-8601); paid orders only', example: '2026-06-01T00:00:00+08:00' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Placed before (ISO-8601)', example: '2026-07-01T00:00:00+08:00' }) @IsISO8601({ strict: true }) to!: string;

  @ApiPropertyOptional({ enum: CHANNELS }) @IsOptional() @IsIn(CHANNELS as unknown as string[]) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) @Matches(ID_PATTERN) shopId?: string;

  @ApiPropertyOptional({ description: 'day/hour/weekday: buckets without sales as zero rows (continuous chart axis)', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  fill?: boolean;
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
  @ApiProperty({ description: 'Paid orders placed at or after (ISO-8601)' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Score as of this moment; orders placed before it (ISO-8601)' }) @IsISO8601({ strict: true }) asOf!: string;
}

export class SkuPairsQueryDto {
  @ApiProperty({ description: 'Placed at or after (ISO-8601); paid orders only' }) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Placed before (ISO-8601)' }) @IsISO8601({ strict: true }) to!: string;
  @ApiPropertyOptional({ default: 2, description: 'Fewest baskets a pair must appear in' }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) minCount?: number;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export class ForecastQueryDto {
  @ApiProperty({ example: 'TEA-LJ-250' }) @IsString() @IsSku() sku!: string;
  @ApiPropertyOptional({ description: 'Forecast the SKU x warehouse series (units allocated from it)' }) @IsOptional() @IsString() @Length(1, 64) @Matches(ID_PATTERN) warehouseId?: string;
  @ApiProperty({ description: 'First forecast day (local date, YYYY-MM-DD); history is the days before it', example: '2026-12-05' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) from!: string;
  @ApiPropertyOptional({ default: 182, minimum: 35, maximum: 1100, description: "Days of history: at least 5 weeks (4 to backtest, 1 to start from)" }) @IsOptional() @Type(() => Number) @IsInt() @Min(35) @Max(1100) historyDays?: number;
  @ApiPropertyOptional({ default: 14, minimum: 1, maximum: 60 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(60) horizon?: number;
  @ApiPropertyOptional({ default: 0.95, description: 'Prediction interval level' }) @IsOptional() @Type(() => Number) @IsIn([0.8, 0.9, 0.95, 0.99]) level?: number;
}

export class PurchaseItemDto {
  @ApiProperty() @IsString() @IsSku() sku!: string;
  @ApiProperty({ description: 'Supplier lead time in days' }) @IsInt() @Min(1) @Max(120) leadTimeDays!: number;
  @ApiProperty({ description: 'Supplier pack size (units)' }) @IsInt() @Min(1) packSize!: number;
  @ApiPropertyOptional({ description: 'Units already ordered and on their way', default: 0 }) @IsOptional() @IsInt() @Min(0) inbound?: number;
  @ApiPropertyOptional({ description: 'Probability of no stock-out over the lead time', default: 0.95 }) @IsOptional() @IsNumber() @Min(0.5) @Max(0.999) serviceLevel?: number;
}

export class PurchaseSuggestionsDto {
  @ApiProperty() @IsString() @Length(1, 64) @Matches(ID_PATTERN) warehouseId!: string;
  @ApiProperty({ description: 'First forecast day (YYYY-MM-DD)' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ type: [PurchaseItemDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => PurchaseItemDto)
  items!: PurchaseItemDto[];
}

export class ImportSettlementDto {
  @ApiProperty({ enum: SETTLEMENT_PLATFORMS, description: 'alipay (Taobao/Tmall bill), jd, pdd or douyin' })
  @IsIn(SETTLEMENT_PLATFORMS as unknown as string[])
  platform!: SettlementPlatform;

  @ApiProperty({ example: 'alipay-2026-06-10.csv' }) @IsString() @Length(1, 200) fileName!: string;

  @ApiProperty({ description: 'The file as downloaded from the platform, base64 (any of its encodings: UTF-8 with or without BOM, GB18030)' })
  @IsBase64()
  @Length(4, 700_000)
  contentBase64!: string;
}

export class DailyReconciliationQueryDto {
  @ApiProperty({ enum: SETTLEMENT_PLATFORMS }) @IsIn(SETTLEMENT_PLATFORMS as unknown as string[]) platform!: SettlementPlatform;
  @ApiProperty({ description: 'Local day of payment (YYYY-MM-DD)', example: '2026-06-10' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) day!: string;
  @ApiPropertyOptional({ enum: ['json', 'csv', 'xlsx'], default: 'json' }) @IsOptional() @IsIn(['json', 'csv', 'xlsx']) format?: 'json' | 'csv' | 'xlsx';
}

export class WarehouseSuggestionsQueryDto {
  @ApiProperty() @IsString() @Length(1, 64) @Matches(ID_PATTERN) warehouseId!: string;
  @ApiProperty({ description: 'First forecast day (YYYY-MM-DD)' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) from!: string;
  @ApiPropertyOptional({ default: 7, description: 'Lead time applied to every SKU (days)' }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(120) leadTimeDays?: number;
  @ApiPropertyOptional({ default: 1, description: 'Pack size applied to every SKU' }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) packSize?: number;
  @ApiPropertyOptional({ default: 0.95 }) @IsOptional() @Type(() => Number) @IsNumber() @Min(0.5) @Max(0.999) serviceLevel?: number;
}

export class ReconciliationKpiQueryDto {
  @ApiProperty({ enum: SETTLEMENT_PLATFORMS }) @IsIn(SETTLEMENT_PLATFORMS as unknown as string[]) platform!: SettlementPlatform;
  @ApiProperty({ description: 'First day (YYYY-MM-DD)' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) from!: string;
  @ApiProperty({ description: 'Day after the last (YYYY-MM-DD), at most 92 days after from' }) @Matches(DAY_PATTERN) @IsISO8601({ strict: true }) to!: string;
}
