import { CHANNELS } from '@flowline/contracts';
import { IsSku, NormalizeIdentifier } from '@flowline/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsBoolean, IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, NotEquals, ValidateNested } from 'class-validator';

/**
 * Warehouse ids: 1-64 letters, digits, dot, underscore or dash (ours; they travel in URLs and
 * events). SKUs are the seller's codes and take the wider shared form (`IsSku`, libs/platform).
 */
export const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Stock columns are int4: a larger count is refused with 400 naming the field, never a 500. */
const INT4_MAX = 2_147_483_647;

/** Goods arrived in a warehouse. */
export class ReceiptDto {
  @ApiProperty({ example: 'SKU-TEA-001' })
  @IsString()
  @IsSku()
  sku!: string;

  @ApiProperty({ example: 'WH-SH' })
  @IsString()
  @IsNotEmpty()
  @NormalizeIdentifier()
  warehouseId!: string;

  @ApiProperty({ example: 100, minimum: 1, description: 'Units received (a positive integer).' })
  @IsInt() @Max(INT4_MAX)
  @Min(1, { message: 'quantity must be at least 1' })
  quantity!: number;

  @ApiPropertyOptional({ example: 'PO-2026-0001', description: 'Purchase order or delivery note.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reference?: string;
}

/** A correction after a count, damage or customer return. */
export class AdjustmentDto {
  @ApiProperty({ example: 'SKU-TEA-001' })
  @IsString()
  @IsSku()
  sku!: string;

  @ApiProperty({ example: 'WH-SH' })
  @IsString()
  @IsNotEmpty()
  @NormalizeIdentifier()
  warehouseId!: string;

  @ApiProperty({ example: -2, description: 'Signed change of on_hand; never 0, never below the reserved units.' })
  @IsInt() @Min(-INT4_MAX) @Max(INT4_MAX)
  @NotEquals(0, { message: 'delta must not be 0' })
  delta!: number;

  @ApiProperty({ enum: ['count', 'damage', 'return'] })
  @IsIn(['count', 'damage', 'return'])
  reason!: 'count' | 'damage' | 'return';

  @ApiPropertyOptional({ example: 'two boxes crushed in transit' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

export class ImportedLineDto {
  @ApiProperty() @NormalizeIdentifier() @IsString() @IsNotEmpty() orderId!: string;
  @ApiProperty() @IsString() @IsNotEmpty() lineId!: string;
  @ApiProperty({ minimum: 1 }) @IsInt() @Max(INT4_MAX) @Min(1) quantity!: number;
  @ApiPropertyOptional({ description: 'ISO-8601; the hold lapses then when unpaid.' }) @IsOptional() @IsISO8601({ strict: true }) expiresAt?: string;
}

/** Opening balance of a ledger taken from another system (its reserved may not match its lines: verify, then repair). */
export class ImportDto {
  @ApiProperty() @IsString() @IsSku() sku!: string;
  @ApiProperty() @NormalizeIdentifier() @IsString() @IsNotEmpty() warehouseId!: string;
  @ApiProperty({ minimum: 0 }) @IsInt() @Max(INT4_MAX) @Min(0) onHand!: number;
  @ApiProperty({ minimum: 0 }) @IsInt() @Max(INT4_MAX) @Min(0) reserved!: number;
  @ApiProperty({ type: [ImportedLineDto] })
  @ValidateNested({ each: true })
  @Type(() => ImportedLineDto)
  @ArrayMaxSize(10_000)
  reservations!: ImportedLineDto[];
  @ApiProperty({ example: 'legacy-erp' }) @IsString() @IsNotEmpty() source!: string;
}

export class ChannelRuleDto {
  @ApiProperty({ example: 'tmall', enum: CHANNELS }) @IsIn(CHANNELS as unknown as string[], { message: `channel must be one of ${CHANNELS.join(', ')}` }) channel!: string;
  @ApiPropertyOptional({ minimum: 0, description: 'Units held back from this channel.' }) @IsOptional() @IsInt() @Max(INT4_MAX) @Min(0) safetyStock?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 100, description: 'Share of available stock this channel may promise, percent.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  sharePercent?: number;
}

/** A SKU and its stock rules. */
export class SkuRulesDto {
  @ApiProperty({ example: '正山小种红茶 250g' }) @IsString() @MaxLength(200) name!: string;
  @ApiPropertyOptional({ default: false, description: 'Reservations may exceed available stock (backorder).' }) @IsOptional() @IsBoolean() allowBackorder?: boolean;
  @ApiPropertyOptional({ default: 0, description: 'Units held back in each warehouse.' }) @IsOptional() @IsInt() @Max(INT4_MAX) @Min(0) safetyStock?: number;
  @ApiPropertyOptional({ default: 0, description: 'LowStockAlerted when total available drops below this.' }) @IsOptional() @IsInt() @Max(INT4_MAX) @Min(0) lowStockThreshold?: number;
  @ApiPropertyOptional({ type: [ChannelRuleDto] })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => ChannelRuleDto)
  @ArrayMaxSize(50)
  channels?: ChannelRuleDto[];
}

export class WarehouseDto {
  @ApiProperty({ example: '上海仓' }) @IsString() @IsNotEmpty() @MaxLength(100) name!: string;
  @ApiProperty({ example: 1, minimum: 0, description: 'Lower is preferred.' }) @IsInt() @Min(0) @Max(INT4_MAX) priority!: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() active?: boolean;
}

export class RepairDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsSku() sku?: string;
  @ApiPropertyOptional() @NormalizeIdentifier() @IsOptional() @IsString() warehouseId?: string;
}
