import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, Validate, ValidateNested, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { IsSku } from '@flowline/platform';
import { CARRIER_STATES, MAX_LINE_QUANTITY, type CarrierState } from '@flowline/contracts';

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Waybill and tracking numbers as carriers print them (SF1402837465012, JDVA00012345678-1-1-). */
const WAYBILL_MESSAGE = 'must be 1-64 letters, digits, dot, underscore or dash';

/**
 * A carrier's time of an event: not before 2000 and not more than a day ahead of our clock (a
 * carrier clock somewhat off still passes). A parcel "delivered in 1999" or in 9999 is a broken feed.
 */
@ValidatorConstraint({ name: 'plausibleEventTime' })
class PlausibleEventTime implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    return Number.isNaN(t) || (t >= Date.parse('2000-01-01T00:00:00Z') && t <= Date.now() + 86_400_000);
  }
  defaultMessage(): string {
    return 'at must be in the year 2000 or later and not more than a day ahead of now';
  }
}

/** One scan at the packing table. */
export class ScanDto {
  @ApiProperty({ example: 'TEA-LJ-250' })
  @IsString()
  @IsSku()
  sku!: string;

  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_LINE_QUANTITY })
  @IsInt()
  @Min(1, { message: 'quantity must be at least 1' })
  @Max(MAX_LINE_QUANTITY, { message: `quantity must be at most ${MAX_LINE_QUANTITY} (an order line's limit)` })
  quantity!: number;
}

/** Packing: the waybill comes from the carrier unless the warehouse printed one already. */
export class PackDto {
  @ApiPropertyOptional({ example: 'SIM', description: 'Carrier code; the configured default (SIM) when absent. An unconfigured carrier is refused.' })
  @IsOptional()
  @IsString()
  @Matches(CODE, { message: 'carrier must be a carrier code' })
  carrier?: string;

  @ApiPropertyOptional({ example: 'SF1402837465012' })
  @IsOptional()
  @IsString()
  @Matches(CODE, { message: `waybillNo ${WAYBILL_MESSAGE}` })
  waybillNo?: string;
}

/** Handover to the carrier. */
export class ShipDto {
  @ApiPropertyOptional({ example: 'SIM' })
  @IsOptional()
  @IsString()
  @Matches(CODE, { message: 'carrier must be a carrier code' })
  carrier?: string;

  @ApiPropertyOptional({ example: 'SF1402837465012', description: 'The waybill number when absent.' })
  @IsOptional()
  @IsString()
  @Matches(CODE, { message: `trackingNumber ${WAYBILL_MESSAGE}` })
  trackingNumber?: string;
}

/** A tracking state reported for a parcel (carrier callbacks are translated into this). */
export class CarrierEventDto {
  @ApiProperty({ enum: CARRIER_STATES })
  @IsIn(CARRIER_STATES as unknown as string[])
  state!: CarrierState;

  @ApiProperty({ example: '快件已到达【杭州转运中心】' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  description!: string;

  @ApiProperty({ example: '2026-01-05T08:00:00.000Z' })
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, { message: 'at must be an ISO-8601 UTC time' })
  @Validate(PlausibleEventTime)
  at!: string;
}

export class ActorDto {
  @ApiProperty({ example: 'gm-wang' })
  @IsString()
  @IsNotEmpty()
  id!: string;

  @ApiProperty({ example: 'general_manager' })
  @IsString()
  @IsNotEmpty()
  role!: string;

  @ApiPropertyOptional({ example: '王总' })
  @IsOptional()
  @IsString()
  name?: string;
}

/** A person releases a merged box (合单) for picking before its window ends. */
export class ReleaseMergedDto {
  @ApiProperty({ example: '买家催发货，不再等合单' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason!: string;
}

/** A manager lifts the freeze after packing (特批). */
export class FreezeOverrideDto {
  /** Ignored: the actor is the verified token's subject (issue #16); kept so older clients are not refused. */
  @ApiPropertyOptional({ type: ActorDto, deprecated: true, description: 'Ignored: who lifts the freeze is the caller of the verified access token.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ActorDto)
  actor?: ActorDto;

  @ApiProperty({ example: '客户加急改地址，已电话确认' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason!: string;
}

export class ReturnLineDto {
  @ApiProperty({ example: 'TEA-LJ-250' })
  @IsString()
  @IsSku()
  sku!: string;

  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_LINE_QUANTITY })
  @IsInt()
  @Min(1, { message: 'quantity must be at least 1' })
  @Max(MAX_LINE_QUANTITY, { message: `quantity must be at most ${MAX_LINE_QUANTITY} (an order line's limit)` })
  quantity!: number;
}

/** A return (RMA) for a delivered or refused parcel. */
export class ReturnRequestDto {
  @ApiPropertyOptional({ example: 'RMA-20251129-0001', description: 'Generated when absent.' })
  @IsOptional()
  @IsString()
  @Matches(CODE, { message: 'rmaId must be 1-64 letters, digits, dot, underscore or dash' })
  rmaId?: string;

  @ApiProperty({ type: [ReturnLineDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ReturnLineDto)
  lines!: ReturnLineDto[];

  @ApiProperty({ example: '七天无理由退货' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason!: string;
}

export class ReceivedLineDto extends ReturnLineDto {
  @ApiProperty({ enum: ['resellable', 'damaged'] })
  @IsIn(['resellable', 'damaged'])
  condition!: 'resellable' | 'damaged';
}

/** What came back, line by line, with its condition. */
export class ReturnReceiptDto {
  @ApiProperty({ type: [ReceivedLineDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ReceivedLineDto)
  lines!: ReceivedLineDto[];
}
