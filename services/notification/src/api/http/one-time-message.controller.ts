import { Body, Controller, ForbiddenException, HttpCode, Logger, Post, Req, ServiceUnavailableException, BadGatewayException } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { isServicePrincipal, requirePrincipal, Requires } from '@flowline/auth';
import { maskPhone } from '@flowline/contracts';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ulid } from 'ulid';
import { NotificationRuntime } from '../../infra/notification-runtime';

export class OneTimeMessageDto {
  @ApiProperty({ enum: ['sms'] }) @IsIn(['sms']) channel!: 'sms';
  @ApiProperty({ example: '13800001234' }) @IsString() @Matches(/^\d{6,15}$/, { message: 'phone must be 6-15 digits' }) phone!: string;
  @ApiProperty({ description: 'The whole text (it may hold a one-time code: it is sent, never stored)' }) @IsString() @Length(1, 2000) text!: string;
  @ApiProperty({ enum: ['portal-otp'] }) @IsIn(['portal-otp']) purpose!: 'portal-otp';
  @ApiProperty({ required: false }) @IsOptional() @IsString() @Length(1, 64) orderId?: string;
}

/**
 * One-time messages (the portal's login codes): sent straight through the SMS adapter, with no
 * notification row, no event and nothing on Kafka, because the text carries a secret. Only a
 * service's client-credentials token may ask (order-intake's svc-order-intake); the log line has
 * the masked number and the purpose, never the text.
 */
@ApiTags('notifications')
@Controller('api/one-time-messages')
export class OneTimeMessageController {
  private readonly log = new Logger('one-time-message');

  constructor(private readonly rt: NotificationRuntime) {}

  @Post()
  @HttpCode(202)
  @Requires('create', 'Notification')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Send a one-time SMS now (portal codes); service tokens only; nothing stored' })
  async send(@Body() body: OneTimeMessageDto, @Req() req: object): Promise<{ status: 'sent'; providerMessageId?: string }> {
    const principal = requirePrincipal(req);
    if (!isServicePrincipal(principal)) throw new ForbiddenException({ code: 'FORBIDDEN', message: 'one-time messages are sent for services only (client credentials)' });
    if (!this.rt.sms) throw new ServiceUnavailableException({ code: 'CHANNEL_NOT_CONFIGURED', message: 'no SMS adapter is configured (ALIYUN_SMS_*)' });
    const id = `otm-${ulid()}`;
    const outcome = await this.rt.sms.send({ notificationId: id, channel: 'sms', address: body.phone, locale: 'zh-CN', message: { kind: 'text', text: body.text } });
    this.log.log(`${body.purpose} to ${maskPhone(body.phone)} for ${principal.clientId}: ${outcome.ok ? 'sent' : `failed ${outcome.code}`}`);
    if (!outcome.ok) throw new BadGatewayException({ code: 'SMS_NOT_SENT', message: `the SMS provider refused: ${outcome.code}` });
    return { status: 'sent', ...(outcome.providerMessageId ? { providerMessageId: outcome.providerMessageId } : {}) };
  }
}
