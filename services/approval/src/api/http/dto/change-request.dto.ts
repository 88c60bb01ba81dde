import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsNotEmpty, IsOptional, IsString, MaxLength, Min, ValidateNested } from 'class-validator';

export class ChangeLineDto {
  @ApiProperty({ example: 'L2' }) @IsString() @IsNotEmpty() @MaxLength(64) lineId!: string;
  @ApiProperty({ example: 'TEA-CUP-01' }) @IsString() @IsNotEmpty() @MaxLength(64) sku!: string;
  @ApiProperty({ example: '配套茶杯' }) @IsString() @IsNotEmpty() @MaxLength(200) title!: string;
  @ApiProperty({ example: 2, minimum: 1 }) @IsInt() @Min(1) quantity!: number;
  @ApiProperty({ example: 8800, description: 'Integer fen.' }) @IsInt() @Min(0) unitPrice!: number;
  @ApiPropertyOptional({ example: 0 }) @IsOptional() @IsInt() @Min(0) lineDiscount?: number;
  @ApiPropertyOptional({ example: 'tea' }) @IsOptional() @IsString() @MaxLength(64) category?: string;
}

export class QuantityDto {
  @ApiProperty({ example: 'L1' }) @IsString() @IsNotEmpty() @MaxLength(64) lineId!: string;
  @ApiProperty({ example: 3, minimum: 1 }) @IsInt() @Min(1) quantity!: number;
}

export class AddressChangeDto {
  @ApiProperty({ example: '浙江省' }) @IsString() @IsNotEmpty() @MaxLength(50) province!: string;
  @ApiProperty({ example: '杭州市' }) @IsString() @IsNotEmpty() @MaxLength(50) city!: string;
  @ApiProperty({ example: '西湖区' }) @IsString() @IsNotEmpty() @MaxLength(50) district!: string;
  @ApiPropertyOptional({ example: '文三路***' }) @IsOptional() @IsString() @MaxLength(200) streetMasked?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(20) postalCode?: string;
}

export class OverrideDto {
  @ApiProperty({ example: '客户加急，仓库可拆包' }) @IsString() @IsNotEmpty() @MaxLength(500) reason!: string;
}

/** An order change request (订单变更): what should change; the diff is computed from the order's current state. */
export class ChangeRequestDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(100) orderId!: string;

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

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) note?: string;

  @ApiPropertyOptional({ type: OverrideDto, description: 'General manager only: lets a change through the freeze after packing (recorded as ApprovalFreezeOverridden).' })
  @IsOptional() @ValidateNested() @Type(() => OverrideDto)
  override?: OverrideDto;
}
