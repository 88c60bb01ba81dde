import { CHANNELS, ORDER_STAGES, type Channel, type OrderStage } from '@flowline/contracts';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { NormalizeIdentifier } from '@flowline/platform';

export class ConfirmPaymentDto {
  @ApiProperty({ example: 26000, description: 'Integer fen; must equal the amount due' })
  @IsInt()
  @Min(0)
  @Max(100_000_000_000)
  amount!: number;

  @ApiPropertyOptional({ example: 'CNY', default: 'CNY' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO-4217 code such as CNY' })
  currency?: string;

  @ApiPropertyOptional({ example: '2025112522001412345678', description: "The payment provider's reference" })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  paymentRef?: string;

  @ApiPropertyOptional({
    example: '2025-11-25T08:00:00.000Z',
    description:
      "When the customer paid, as the platform or payment provider reports it (an imported order's 付款时间): ISO-8601 with a zone, not more than a day ahead of the server's clock. Kept as the order's reportedPaidAt, from which cycle times, KPIs and reconciliation count; the flow's own timers count from when the payment is recorded. Absent: the time it is recorded.",
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'paidAt must be an ISO-8601 time such as 2025-11-25T08:00:00.000Z' })
  @Matches(/(Z|[+-]\d{2}:?\d{2})$/, { message: 'paidAt must name its zone (Z or +08:00)' })
  paidAt?: string;
}

/** The ConfirmPayment command's data from the request (CNY when no currency is sent). */
export function paymentOf(dto: ConfirmPaymentDto): { amount: number; currency: string; paymentRef?: string; paidAt?: string } {
  return { amount: dto.amount, currency: dto.currency ?? 'CNY', ...(dto.paymentRef ? { paymentRef: dto.paymentRef } : {}), ...(dto.paidAt ? { paidAt: dto.paidAt } : {}) };
}

export class ReasonDto {
  @ApiProperty({ example: '买家要求取消' })
  @IsString()
  @Length(1, 500)
  reason!: string;
}

export class RequestRefundDto extends ReasonDto {
  @ApiProperty({ example: 26000, description: 'Integer fen; before shipment the full amount paid' })
  @IsInt()
  @Min(1)
  @Max(100_000_000_000)
  amount!: number;
}

export class RecordRefundDto {
  @ApiProperty({ example: 26000, description: 'Integer fen paid back; must equal the refund requested (or owed after a paid cancel)' })
  @IsInt()
  @Min(1)
  @Max(100_000_000_000)
  amount!: number;
}

/** Empty body (the release takes no parameters; unknown fields are still refused). */
export class ReleaseOrderDto {}

export class ListOrdersQueryDto {
  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS as unknown as string[])
  channel?: Channel;

  @ApiPropertyOptional({ description: 'One stage or several, comma separated', example: 'paid,stock_reserved' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value))
  @IsIn(ORDER_STAGES as unknown as string[], { each: true })
  stage?: OrderStage[];

  @ApiPropertyOptional() @NormalizeIdentifier() @IsOptional() @IsString() @Length(1, 64) shopId?: string;

  @ApiPropertyOptional({ enum: ['on_hold', 'exception'] })
  @IsOptional()
  @IsIn(['on_hold', 'exception'])
  flag?: 'on_hold' | 'exception';

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  cursor?: string;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100, description: 'Page size, 1 to 100 (out of range: 400, never clamped)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}
