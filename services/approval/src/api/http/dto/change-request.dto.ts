import { CLEAR_PHONE, MAX_FEN, MAX_LINE_QUANTITY } from '@flowline/contracts';
import { ID_PATTERN, IsSku } from '@flowline/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, Validate, ValidateNested, ValidatorConstraint, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';

/** A line's discount takes at most the line's own amount: a line never goes below zero. */
@ValidatorConstraint({ name: 'discountWithinLine' })
class DiscountWithinLine implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const line = args.object as { quantity?: unknown; unitPrice?: unknown };
    if (typeof value !== 'number' || typeof line.quantity !== 'number' || typeof line.unitPrice !== 'number') return true;
    return value <= line.quantity * line.unitPrice;
  }
  defaultMessage(): string {
    return 'lineDiscount must not exceed quantity x unitPrice';
  }
}

export class ChangeLineDto {
  @ApiProperty({ example: 'L2' }) @IsString() @IsNotEmpty() @MaxLength(64) lineId!: string;
  @ApiProperty({ example: 'TEA-CUP-01' }) @IsString() @IsSku() sku!: string;
  @ApiProperty({ example: '配套茶杯' }) @IsString() @IsNotEmpty() @MaxLength(200) title!: string;
  @ApiProperty({ example: 2, minimum: 1, maximum: MAX_LINE_QUANTITY }) @IsInt() @Min(1) @Max(MAX_LINE_QUANTITY) quantity!: number;
  @ApiProperty({ example: 8800, description: 'Integer fen.' }) @IsInt() @Min(0) @Max(MAX_FEN) unitPrice!: number;
  @ApiPropertyOptional({ example: 0, description: 'Integer fen, at most quantity x unitPrice.' }) @IsOptional() @IsInt() @Min(0) @Max(MAX_FEN) @Validate(DiscountWithinLine) lineDiscount?: number;
  @ApiPropertyOptional({ example: 'tea' }) @IsOptional() @IsString() @MaxLength(64) category?: string;
}

export class QuantityDto {
  @ApiProperty({ example: 'L1' }) @IsString() @IsNotEmpty() @MaxLength(64) lineId!: string;
  @ApiProperty({ example: 3, minimum: 1, maximum: MAX_LINE_QUANTITY }) @IsInt() @Min(1) @Max(MAX_LINE_QUANTITY) quantity!: number;
}

export class AddressChangeDto {
  @ApiProperty({ example: '浙江省' }) @IsString() @IsNotEmpty() @MaxLength(50) province!: string;
  @ApiProperty({ example: '杭州市' }) @IsString() @IsNotEmpty() @MaxLength(50) city!: string;
  @ApiProperty({ example: '西湖区' }) @IsString() @IsNotEmpty() @MaxLength(50) district!: string;
  @ApiPropertyOptional({ example: '中山西路', description: 'The new street, in clear (kept inside approval, sent only to order-intake; published masked). Required unless streetMasked is given.' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) street?: string;
  @ApiPropertyOptional({ example: '中山西路', description: 'Deprecated name of `street` (taken as the street when `street` is absent).' }) @IsOptional() @IsString() @MaxLength(200) streetMasked?: string;
  @ApiPropertyOptional({ example: '88号' }) @IsOptional() @IsString() @MaxLength(200) detail?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(20) postalCode?: string;
  @ApiPropertyOptional({ example: '韩梅梅', description: 'New recipient; the order keeps its own when absent.' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(100) recipient?: string;
  @ApiPropertyOptional({ example: '13900001111', description: 'New phone; the order keeps its own when absent.' }) @IsOptional() @IsString() @Matches(CLEAR_PHONE, { message: 'phone must be digits' }) phone?: string;
}

export class InvoiceDto {
  @ApiProperty({ enum: ['personal', 'company'] }) @IsIn(['personal', 'company']) type!: 'personal' | 'company';
  @ApiProperty({ example: '杭州茶韵贸易有限公司', description: '发票抬头' }) @IsString() @IsNotEmpty() @MaxLength(200) title!: string;
  @ApiPropertyOptional({ example: '91330100MA2XXXXX0X', description: '税号' }) @IsOptional() @IsString() @MaxLength(30) taxId?: string;
  @ApiPropertyOptional() @IsOptional() @IsEmail() @MaxLength(200) email?: string;
}

export class OverrideDto {
  @ApiProperty({ example: '客户加急，仓库可拆包' }) @IsString() @IsNotEmpty() @MaxLength(500) reason!: string;
}

/** An order change request (订单变更): what should change; the diff is computed from the order's current state. */
export class ChangeRequestDto {
  @ApiProperty({ example: '01M98SVS6YCMA7WNY4N1T9E360' }) @IsString() @IsNotEmpty() @Matches(ID_PATTERN, { message: 'orderId must be 1-128 characters: letters, digits and . _ : @ / + - (starting with a letter or digit)' }) orderId!: string;

  @ApiPropertyOptional({ type: [ChangeLineDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ChangeLineDto)
  addLines?: ChangeLineDto[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true })
  removeLineIds?: string[];

  @ApiPropertyOptional({ type: [QuantityDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => QuantityDto)
  quantities?: QuantityDto[];

  @ApiPropertyOptional({ type: AddressChangeDto })
  @IsOptional() @ValidateNested() @Type(() => AddressChangeDto)
  shippingAddress?: AddressChangeDto;

  @ApiPropertyOptional({ example: 'express', description: 'Carrier service wanted instead (e.g. express, standard).' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(50)
  shippingMethod?: string;

  @ApiPropertyOptional({ type: InvoiceDto, description: 'New invoice information (发票); published masked, sent in clear to order-intake only.' })
  @IsOptional() @ValidateNested() @Type(() => InvoiceDto)
  invoice?: InvoiceDto;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) note?: string;

  @ApiPropertyOptional({ type: OverrideDto, description: 'General manager only: lets a change through the freeze after packing (recorded as ApprovalFreezeOverridden).' })
  @IsOptional() @ValidateNested() @Type(() => OverrideDto)
  override?: OverrideDto;
}
