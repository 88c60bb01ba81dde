import { PII_FIELDS, type PiiField } from '@flowline/contracts';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { RevealedPii } from '../../../application/reveal-pii.handler';

/** POST /api/orders/{orderId}/pii-reveals: why the person needs the unmasked fields (recorded). */
export class RevealPiiDto {
  @ApiProperty({ example: '顾客来电核对收货地址', description: 'Why the person needs the unmasked values; recorded on the order (OrderPiiRevealed) and shown in the timeline and audit trail' })
  @IsString()
  @Length(2, 200)
  reason!: string;

  @ApiPropertyOptional({ enum: PII_FIELDS, isArray: true, description: 'Which fields; absent or empty = all of them' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(PII_FIELDS.length)
  @IsIn(PII_FIELDS, { each: true })
  fields?: PiiField[];
}

class RevealedCustomerDto {
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() phone?: string;
}

class RevealedAddressDto {
  @ApiPropertyOptional() recipient?: string;
  @ApiPropertyOptional() phone?: string;
  @ApiPropertyOptional() street?: string;
  @ApiPropertyOptional() detail?: string;
}

/** The unmasked fields asked for, and the reveal's own record. */
export class RevealedPiiDto implements RevealedPii {
  @ApiProperty() orderId!: string;
  @ApiProperty({ enum: PII_FIELDS, isArray: true }) fields!: PiiField[];
  @ApiProperty({ type: RevealedCustomerDto }) customer!: RevealedCustomerDto;
  @ApiProperty({ type: RevealedAddressDto }) shippingAddress!: RevealedAddressDto;
  @ApiProperty({ description: 'The order revision after the reveal was recorded (the ETag moves on)' }) revision!: number;
  @ApiProperty() revealedAt!: string;
}
