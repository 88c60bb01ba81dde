import { CHANNELS, CLEAR_PHONE, MAX_FEN, MAX_LINE_QUANTITY, RECIPIENT_FIELDS, type Channel, type RecipientField } from '@flowline/contracts';
import { IsSku, NormalizeIdentifier } from '@flowline/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ConfirmPaymentDto } from './order-commands.dto';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';


export class CustomerDto {
  @ApiPropertyOptional({ example: 'tb_buyer_8841', description: "The channel's customer id" })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  channelCustomerId?: string;

  @ApiPropertyOptional({ example: '小张爱买' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  nickname?: string;

  @ApiPropertyOptional({ example: '张三', description: 'Stored in full, shown masked (张*)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ example: '13812345678', description: 'Stored in full, shown masked (138****5678)' })
  @IsOptional()
  @IsString()
  @Matches(/^\+?[0-9 -]{5,20}$/, { message: 'phone must be digits' })
  phone?: string;

  @ApiPropertyOptional({ example: 'zhangsan@example.com' })
  @IsOptional()
  @IsEmail()
  email?: string;

  @ApiPropertyOptional({ type: [String], example: ['vip'], description: 'Seller tags; flow rules read them (e.g. blocked)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  tags?: string[];
}

export class AddressDto {
  @ApiProperty({ example: '浙江省' }) @IsString() @Length(1, 50) province!: string;
  @ApiProperty({ example: '杭州市' }) @IsString() @Length(1, 50) city!: string;
  @ApiProperty({ example: '西湖区' }) @IsString() @Length(1, 50) district!: string;
  @ApiProperty({ example: '文三路', description: 'May be empty or the masked form only when recipientProtection lists `address`' }) @IsString() @MaxLength(500) street!: string;
  @ApiPropertyOptional({ example: '478号 华星时代广场 A 座 1201' }) @IsOptional() @IsString() @MaxLength(200) detail?: string;
  @ApiPropertyOptional({ example: '310013' }) @IsOptional() @IsString() @Matches(/^[0-9]{6}$/, { message: 'postalCode must be 6 digits' }) postalCode?: string;
  @ApiProperty({ example: '张三', description: 'May be empty or the masked form (张*) only when recipientProtection lists `name`' }) @IsString() @MaxLength(500) recipient!: string;
  @ApiProperty({ example: '13812345678', description: 'Digits; may be empty or the masked form (1******6198) only when recipientProtection lists `phone`' }) @IsString() @MaxLength(500) phone!: string;
}

/** The platform hid (part of) the recipient: it is resolved through the platform (decrypt API or oaid), never guessed. */
export class RecipientProtectionDto {
  @ApiPropertyOptional({ enum: RECIPIENT_FIELDS, isArray: true, example: ['phone'], description: 'Shown partly by the platform (张*, 1******6198); the address holds the masked text' })
  @IsOptional()
  @IsArray()
  @IsIn(RECIPIENT_FIELDS as unknown as string[], { each: true })
  masked?: RecipientField[];

  @ApiPropertyOptional({ enum: RECIPIENT_FIELDS, isArray: true, example: ['name', 'address'], description: "Ciphertext only the platform's decrypt API opens; the address field is empty" })
  @IsOptional()
  @IsArray()
  @IsIn(RECIPIENT_FIELDS as unknown as string[], { each: true })
  encrypted?: RecipientField[];

  @ApiPropertyOptional({ enum: RECIPIENT_FIELDS, isArray: true, example: [], description: 'Not given by the platform at all; the address field is empty' })
  @IsOptional()
  @IsArray()
  @IsIn(RECIPIENT_FIELDS as unknown as string[], { each: true })
  withheld?: RecipientField[];

  @ApiPropertyOptional({ example: 'oaid_1a2b3c', description: "The platform's open address id to decrypt or print the waybill with" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  oaid?: string;
}


/**
 * The address fields the platform did not hide must be clear text: street and recipient not empty
 * (recipient at most 100 characters), phone digits. Checked on PlaceOrderDto, which sees both the
 * address and recipientProtection.
 */
@ValidatorConstraint({ name: 'clearRecipient' })
class ClearRecipientConstraint implements ValidatorConstraintInterface {
  private problems(args: ValidationArguments): string[] {
    const dto = args.object as PlaceOrderDto;
    const a = dto.shippingAddress as AddressDto | undefined;
    if (!a || typeof a !== 'object') return [];
    const p = dto.recipientProtection;
    // Lists that are not arrays are refused by their own checks; here they hide nothing.
    const listed = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    const hidden = new Set<unknown>([...listed(p?.masked), ...listed(p?.encrypted), ...listed(p?.withheld)]);
    const out: string[] = [];
    if (!hidden.has('address') && (typeof a.street !== 'string' || a.street.trim() === '' || a.street.length > 200)) out.push('shippingAddress.street must be 1-200 characters');
    if (!hidden.has('name') && (typeof a.recipient !== 'string' || a.recipient.trim() === '' || a.recipient.length > 100)) out.push('shippingAddress.recipient must be 1-100 characters');
    if (!hidden.has('phone') && (typeof a.phone !== 'string' || !CLEAR_PHONE.test(a.phone))) out.push('shippingAddress.phone must be digits');
    return out;
  }
  validate(_value: unknown, args: ValidationArguments): boolean {
    return this.problems(args).length === 0;
  }
  defaultMessage(args: ValidationArguments): string {
    return `${this.problems(args).join('; ')} (unless recipientProtection lists the field)`;
  }
}

/** Presale terms; an unpaid balance after balanceDueBy cancels the order and releases its stock. */
export class PresaleDto {
  @ApiProperty({ example: 5000, description: 'Deposit (定金) in integer fen, below the grand total' }) @IsInt() @Min(1) @Max(MAX_FEN) depositAmount!: number;
  @ApiProperty({ example: '2025-11-11T16:00:00.000Z', description: 'The balance (尾款) is due by then' }) @IsISO8601({ strict: true }) balanceDueBy!: string;
  @ApiProperty({ example: '2025-11-13T00:00:00.000Z', description: 'The presale ship date: not released to fulfillment before it' }) @IsISO8601({ strict: true }) shipNotBefore!: string;
}

export class OrderLineDto {
  @ApiPropertyOptional({ example: '3318459620112233445-1', description: "The channel's sub-order id; L1, L2... when absent" })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  lineId?: string;

  @ApiProperty({ example: 'TEA-LJ-250' }) @IsString() @IsSku() sku!: string;
  @ApiProperty({ example: '西湖龙井 250g' }) @IsString() @Length(1, 200) title!: string;

  @ApiProperty({ example: 2, minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;

  @ApiProperty({ example: 12800, description: 'Integer fen per unit (12800 = ¥128.00)' })
  @IsInt()
  @Min(0)
  @Max(MAX_FEN)
  unitPrice!: number;

  @ApiPropertyOptional({ example: 0, description: 'Integer fen taken off this line' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_FEN)
  lineDiscount?: number;

  @ApiPropertyOptional({ example: 'tea', description: '`custom` marks made-to-order goods (approval required)' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  category?: string;

  @ApiPropertyOptional({ example: 260, minimum: 1, maximum: 1_000_000, description: 'Grams per unit when the channel gives it (JD 商品重量); fulfillment weighs the parcel with it, else with its per-SKU table' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  unitWeightGrams?: number;
}

/**
 * A new order. The server makes the id, computes the totals and owns the status: a body with
 * `orderId`, `status`, `totals` or any other unknown field is refused (400, naming the field);
 * `grandTotal`, when sent, must equal the server's total (422 ORDER_TOTAL_MISMATCH).
 */
export class PlaceOrderDto {
  @ApiProperty({ enum: CHANNELS, example: 'tmall' })
  @IsIn(CHANNELS as unknown as string[])
  channel!: Channel;

  @ApiProperty({ example: '3318459620112233445', description: "The channel's order id (a string: Taobao's have 19 digits)" })
  @NormalizeIdentifier()
  @IsString()
  @Length(1, 64)
  channelOrderId!: string;

  @ApiProperty({ example: 'tmall-flagship' }) @NormalizeIdentifier() @IsString() @Length(1, 64) shopId!: string;

  @ApiProperty({ type: CustomerDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => CustomerDto)
  customer!: CustomerDto;

  @ApiProperty({ type: AddressDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Validate(ClearRecipientConstraint)
  @Type(() => AddressDto)
  shippingAddress!: AddressDto;

  @ApiPropertyOptional({ type: RecipientProtectionDto, description: 'The platform masked, encrypted or withheld recipient fields; resolve them through the platform' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RecipientProtectionDto)
  recipientProtection?: RecipientProtectionDto;

  @ApiProperty({ type: [OrderLineDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  lines!: OrderLineDto[];

  @ApiPropertyOptional({ example: 1000, description: 'Integer fen' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_FEN)
  shippingFee?: number;

  @ApiPropertyOptional({ example: 600, description: 'Integer fen taken off the whole order' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_FEN)
  orderDiscount?: number;

  @ApiPropertyOptional({ example: 'CNY', default: 'CNY' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code such as CNY' })
  currency?: string;

  @ApiPropertyOptional({ example: 26000, description: 'The total the client computed (fen); refused with 422 when it differs from the server total' })
  @IsOptional()
  @IsInt()
  @Min(0)
  grandTotal?: number;

  @ApiPropertyOptional({ example: '请尽快发货' }) @IsOptional() @IsString() @MaxLength(500) buyerMessage?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) sellerRemark?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  tags?: string[];

  @ApiPropertyOptional({ type: [String], description: 'References of attached files (e.g. design drawings)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  attachments?: string[];

  @ApiPropertyOptional({ example: '2025-11-25T07:59:00.000Z', description: 'When the buyer placed it on the channel; the server time when absent' })
  @IsOptional()
  @IsISO8601({ strict: true })
  placedAt?: string;

  @ApiPropertyOptional({ enum: ['online', 'cod'], default: 'online', description: 'cod (货到付款): shipped unpaid, the collected amount is recorded at delivery' })
  @IsOptional()
  @IsIn(['online', 'cod'])
  paymentMethod?: 'online' | 'cod';

  @ApiPropertyOptional({ example: 'JD', pattern: '^[A-Z][A-Z0-9_]{1,31}$', description: 'Carrier the platform designated for this order (JD 京东配送 -> JD); fulfillment always ships with it' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z][A-Z0-9_]{1,31}$/, { message: 'designatedCarrier must be a carrier code: 2-32 upper-case letters, digits or _ (e.g. JD, SF)' })
  designatedCarrier?: string;

  @ApiPropertyOptional({ type: PresaleDto, description: 'Presale (预售): deposit (定金) now, balance (尾款) by balanceDueBy; not shipped before shipNotBefore' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PresaleDto)
  presale?: PresaleDto;

  @ApiPropertyOptional({
    type: ConfirmPaymentDto,
    description:
      'The payment, when the order arrives paid (a platform order already paid, a web-store checkout): confirmed in the same commit as the placement, as POST /payments would (the amount must equal the grand total, or the deposit of a presale; 422 otherwise and nothing is stored). Not with paymentMethod cod. Needs the update Order permission that POST /payments needs (403 otherwise, e.g. for sales). When the channel order is already an order (200), that order is returned unchanged and this payment is not applied.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ConfirmPaymentDto)
  payment?: ConfirmPaymentDto;
}
