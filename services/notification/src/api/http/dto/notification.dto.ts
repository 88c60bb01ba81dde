import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ID_PATTERN } from '@flowline/platform';
import { CHANNEL_KINDS, type ChannelKind } from '../../../domain/notification.types';
import { LOCALES, type Locale } from '../../../domain/templates';
import { NOTIFICATION_STATUSES } from '../../../infra/notification-store';

export const CUSTOMER_CHANNELS = ['sms', 'wechat_template', 'wechat_subscribe', 'email'] as const;

export class ListNotificationsQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) @Matches(ID_PATTERN) orderId?: string;
  @ApiPropertyOptional({ enum: CHANNEL_KINDS }) @IsOptional() @IsIn([...CHANNEL_KINDS]) channel?: ChannelKind;
  @ApiPropertyOptional({ enum: NOTIFICATION_STATUSES }) @IsOptional() @IsIn([...NOTIFICATION_STATUSES]) status?: string;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ default: 0 }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset?: number;
}

/** Customer contact details (clear PII: kept only in notification's database, never logged or published). */
export class ContactDto {
  @ApiPropertyOptional({ example: '13800001234' }) @IsOptional() @Matches(/^\+?[0-9]{5,20}$/, { message: 'phone must be 5-20 digits' }) phone?: string;
  @ApiPropertyOptional({ example: 'li.lei@example.com' }) @IsOptional() @Matches(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: 'email must be an e-mail address' }) email?: string;
  @ApiPropertyOptional({ description: 'Official account open id' }) @IsOptional() @IsString() @MaxLength(64) wechatOpenId?: string;
  @ApiPropertyOptional({ description: 'Mini program open id' }) @IsOptional() @IsString() @MaxLength(64) miniProgramOpenId?: string;
  @ApiPropertyOptional({ enum: LOCALES, default: 'zh-CN' }) @IsOptional() @IsIn([...LOCALES]) locale?: Locale;
}

export class OptOutDto {
  @ApiProperty({ enum: CUSTOMER_CHANNELS }) @IsIn([...CUSTOMER_CHANNELS]) channel!: (typeof CUSTOMER_CHANNELS)[number];
}

class PreviewEventDto {
  @ApiProperty({ example: 'OrderShipped' }) @IsString() @Matches(/^[A-Z][A-Za-z]+$/) type!: string;
  @ApiPropertyOptional({ example: { carrier: '顺丰速运', trackingNumber: 'SF1234567890' } }) @IsOptional() @IsObject() data?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsISO8601() occurredAt?: string;
}

/** Render a template against a real order (its stored facts) and an example event. */
export class PreviewDto {
  @ApiProperty({ example: 'order_shipped' }) @IsString() @IsNotEmpty() template!: string;
  @ApiProperty({ enum: CHANNEL_KINDS }) @IsIn([...CHANNEL_KINDS]) channel!: ChannelKind;
  @ApiPropertyOptional({ enum: LOCALES, default: 'zh-CN' }) @IsOptional() @IsIn([...LOCALES]) locale?: Locale;
  @ApiProperty({ description: 'An order notification has seen (OrderPlaced consumed).' }) @IsString() @IsNotEmpty() @Matches(ID_PATTERN) orderId!: string;
  @ApiPropertyOptional({ type: PreviewEventDto }) @IsOptional() @ValidateNested() @Type(() => PreviewEventDto) event?: PreviewEventDto;
}

/** One upstream (mobile-originated) SMS as Aliyun's SmsUp report delivers it. */
export class AliyunSmsUpDto {
  @ApiProperty({ example: '13800001234' }) @IsString() @Matches(/^\+?[0-9]{5,20}$/) phone_number!: string;
  @ApiProperty({ example: 'TD' }) @IsString() @MaxLength(500) content!: string;
  @ApiPropertyOptional({ example: '2026-12-04 21:00:00' }) @IsOptional() @IsString() send_time?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() sign_name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() dest_code?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() sequence_id?: number;
}

export class AliyunSmsUpBatchDto {
  @ApiProperty({ type: [AliyunSmsUpDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => AliyunSmsUpDto) messages!: AliyunSmsUpDto[];
}

export class DrivenClockDto {
  @ApiProperty({ example: '2026-12-05T00:00:00.000Z' }) @IsISO8601({ strict: true }) now!: string;
}

/** One delivery receipt as Aliyun's SmsReport pushes it. */
export class AliyunSmsReportDto {
  @ApiProperty({ example: '13800001234' }) @IsString() phone_number!: string;
  @ApiProperty() @IsBoolean() success!: boolean;
  @ApiPropertyOptional({ example: 'DELIVERED' }) @IsOptional() @IsString() err_code?: string;
  @ApiPropertyOptional({ example: '用户接收成功' }) @IsOptional() @IsString() err_msg?: string;
  @ApiPropertyOptional({ example: '2026-12-04 12:00:05' }) @IsOptional() @IsString() report_time?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() send_time?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() sms_size?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() biz_id?: string;
  @ApiProperty({ description: 'The OutId sent: the notification id' }) @IsString() @IsNotEmpty() out_id!: string;
}

export class AliyunSmsReportBatchDto {
  @ApiProperty({ type: [AliyunSmsReportDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => AliyunSmsReportDto) reports!: AliyunSmsReportDto[];
}
