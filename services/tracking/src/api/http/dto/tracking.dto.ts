import { IsSku, PageLimit } from '@flowline/platform';
import { CHANNELS, ORDER_STAGES, type OrderStage, type SlaColour } from '@flowline/contracts';
import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsBoolean, IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';

const list = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value);
const bool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const COLOURS: SlaColour[] = ['green', 'yellow', 'red', 'none'];

export class ListTrackedOrdersQueryDto {
  @ApiPropertyOptional({ description: 'One stage or several, comma separated', example: 'paid,stock_reserved' })
  @IsOptional()
  @Transform(list)
  @IsIn(ORDER_STAGES as unknown as string[], { each: true })
  stage?: OrderStage[];

  @ApiPropertyOptional({ description: 'SLA colours, comma separated', example: 'yellow,red' })
  @IsOptional()
  @Transform(list)
  @IsIn(COLOURS, { each: true })
  sla?: SlaColour[];

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS as unknown as string[])
  channel?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) shopId?: string;

  @ApiPropertyOptional({ description: 'Flags, comma separated: on_hold, exception, stuck (all must hold)', example: 'exception' })
  @IsOptional()
  @Transform(list)
  @IsIn(['on_hold', 'exception', 'stuck'], { each: true })
  flags?: ('on_hold' | 'exception' | 'stuck')[];

  @ApiPropertyOptional({ description: 'Placed at or after (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'Placed before (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'Exactly four digits: the phone tail (尾号); otherwise order id, channel order id or masked customer (prefix), or one SKU (exact)' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  q?: string;

  @ApiPropertyOptional({ description: "Last four digits of the receiver's phone (尾号)", example: '5678', pattern: '^\\d{4}$' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{4}$/, { message: 'phoneTail must be exactly 4 digits' })
  phoneTail?: string;

  @ApiPropertyOptional({ description: "One SKU of the order's lines (exact)", example: 'SKU-TEA-250' }) @IsOptional() @IsString() @IsSku() sku?: string;

  @PageLimit(50) limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @IsOptional() @IsString() @Length(1, 500) cursor?: string;
}

export class GetTrackedOrderQueryDto {
  @ApiPropertyOptional({ description: 'The order as it stood at this moment (ISO-8601)', example: '2026-03-02T10:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;
}

export class KpiQueryDto {
  @ApiPropertyOptional({ description: 'Window start (ISO-8601); default 30 days before `to`' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'Window end, exclusive (ISO-8601); default now' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ enum: CHANNELS }) @IsOptional() @IsIn(CHANNELS as unknown as string[]) channel?: string;
}

/** The stages a board shows by default: every order still on its way (not delivered, closed or archived). */
export const OPEN_STAGES: OrderStage[] = ['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed', 'shipped'];

export class CountsQueryDto {
  @ApiPropertyOptional({ description: 'Stages to count, comma separated (default: the open ones, placed to shipped)', example: 'paid,stock_reserved' })
  @IsOptional()
  @Transform(list)
  @IsIn(ORDER_STAGES as unknown as string[], { each: true })
  @ArrayMinSize(1)
  stage?: OrderStage[];

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS as unknown as string[])
  channel?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) shopId?: string;
}

export class ShortagesQueryDto extends PickType(CountsQueryDto, ['channel', 'shopId'] as const) {
  @PageLimit(500) limit?: number;
}

export class ShortageOrdersQueryDto extends ShortagesQueryDto {
  @ApiProperty({ description: 'The SKU the orders wait for (exact)', example: 'SKU-TEA-250' }) @IsString() @IsSku() sku!: string;
}

export class StuckQueryDto {
  @PageLimit(100) limit?: number;
}

export class ShipmentsQueryDto {
  @ApiProperty({ description: 'Orders, comma separated (at most 500)', example: 'ORD-1,ORD-2' })
  @Transform(list)
  @IsString({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  orderIds!: string[];
}

export class WatchQueryDto {
  @ApiPropertyOptional({ description: 'Only these orders, comma separated' })
  @IsOptional()
  @Transform(list)
  @IsString({ each: true })
  orderId?: string[];

  @ApiPropertyOptional({ description: 'Only orders in these stages, comma separated' })
  @IsOptional()
  @Transform(list)
  @IsIn(ORDER_STAGES as unknown as string[], { each: true })
  stage?: OrderStage[];

  @ApiPropertyOptional({ description: 'Only orders with these SLA colours, comma separated' })
  @IsOptional()
  @Transform(list)
  @IsIn(COLOURS, { each: true })
  sla?: SlaColour[];

  @ApiPropertyOptional({ enum: CHANNELS }) @IsOptional() @IsIn(CHANNELS as unknown as string[]) channel?: string;
}

export class StartRebuildDto {
  @ApiPropertyOptional({ default: true, description: 'Swap the rebuilt tables in (false: build next to live, for comparing checksums)' })
  @IsOptional()
  @Transform(bool)
  @IsBoolean()
  swap?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Keep the replaced schema as tracking_old_<id>' })
  @IsOptional()
  @Transform(bool)
  @IsBoolean()
  keepOld?: boolean;
}

export class ChecksumQueryDto {
  @ApiPropertyOptional({ default: 'tracking', description: 'Schema to hash: tracking, or a rebuild schema tracking_rb_<id>' })
  @IsOptional()
  @IsString()
  @Length(1, 63)
  schema?: string;
}
