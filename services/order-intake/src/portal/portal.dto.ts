import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class PortalCodeRequestDto {
  @ApiProperty({ description: 'The order number: the channel order number the customer sees, or the Flowline order id', example: 'JD-900001' })
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'orderNo must be letters, digits, _ . : -' })
  orderNo!: string;

  @ApiProperty({ description: 'The phone on the order (digits; +86 and separators allowed)', example: '13800001234' })
  @IsString()
  @Length(6, 20)
  @Matches(/^\+?[\d\s-]{6,20}$/, { message: 'phone must be 6-20 digits' })
  phone!: string;
}

export class PortalSessionRequestDto extends PortalCodeRequestDto {
  @ApiProperty({ description: 'The six-digit code from the SMS', example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

export class PortalLinkSessionRequestDto {
  @ApiProperty({ description: 'The `t` parameter of the signed link from the SMS' })
  @IsString()
  @Length(20, 4096)
  token!: string;
}

export class PortalCodeAcceptedDto {
  @ApiProperty({ example: 'accepted' }) status!: 'accepted';
  @ApiProperty({ example: 'If the order number and phone match an order, a code is on its way by SMS.' }) message!: string;
}

export class CustomerSessionDto {
  @ApiProperty({ description: 'ES256 JWT, iss = PORTAL_ISSUER, roles ["customer"], orders = the proved orders' }) access_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: 'Bearer';
  @ApiProperty({ example: 900 }) expires_in!: number;
  @ApiProperty({ type: [String] }) orders!: string[];
}

export class PortalLinkDto {
  @ApiProperty() url!: string;
  @ApiProperty({ example: 86400 }) expiresInSec!: number;
}
