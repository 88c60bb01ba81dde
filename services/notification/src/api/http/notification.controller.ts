import { requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { maskEmail, maskPhone } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import { enumValue, IdParam } from '@flowline/platform';
import { maskOpenId } from '../../application/notification-intake';
import { previewTemplate } from '../../application/preview';
import { NotificationRuntime } from '../../infra/notification-runtime';
import { NotificationStore, type NotificationRow } from '../../infra/notification-store';
import { orderNotKnown, orderVisible } from '../order-scope';
import { AliyunSmsReportBatchDto, AliyunSmsUpBatchDto, ContactDto, CUSTOMER_CHANNELS, DrivenClockDto, ListNotificationsQueryDto, OptOutDto, PreviewDto } from './dto/notification.dto';

/** The delivery log as the API shows it: masked recipient, never the clear address. */
export function notificationView(n: NotificationRow) {
  const { address: _address, ...rest } = n;
  return rest;
}

/** Replies that opt a number out of SMS (退订 and the carriers' usual short codes). */
export const SMS_OPT_OUT = /^\s*(TD|T|N|退订|退定|取消|STOP|UNSUBSCRIBE)\s*$/i;

@ApiTags('notifications')
@Controller('api')
export class NotificationController {
  constructor(private readonly rt: NotificationRuntime) {}

  @Get('notifications')
  @ApiOperation({ summary: 'Delivery log: notifications newest first, by order / channel / status' })
  @Requires('read', 'Notification')
  async list(@Query() q: ListNotificationsQueryDto, @Headers() h: Record<string, string | undefined>) {
    // Data scoping (ADR 0018): a shop-limited user lists only their shops' orders' notifications.
    const shops = shopFilter(requirePrincipal(h));
    const rows = await NotificationStore.list(this.rt.pool, { orderId: q.orderId, channel: q.channel, status: q.status, ...(shops ? { shops } : {}), limit: q.limit ?? 50, offset: q.offset ?? 0 });
    return { notifications: rows.map(notificationView) };
  }

  @Get('orders/:orderId/notifications')
  @ApiOperation({ summary: "An order's delivery log (queued, held, sent, delivered, failed with the provider's code, suppressed)" })
  @Requires('read', 'Notification')
  async forOrder(@Param('orderId', new IdParam('orderId')) orderId: string, @Headers() h: Record<string, string | undefined>) {
    if (!(await orderVisible(requirePrincipal(h), this.rt.pool, orderId))) throw orderNotKnown(orderId);
    const rows = await NotificationStore.list(this.rt.pool, { orderId, limit: 500, offset: 0 });
    return { orderId, notifications: rows.map(notificationView) };
  }

  @Get('notifications/:id')
  @ApiOperation({ summary: 'One notification with every delivery attempt' })
  @Requires('read', 'Notification')
  async one(@Param('id', new IdParam('id')) id: string, @Headers() h: Record<string, string | undefined>) {
    const n = await NotificationStore.get(this.rt.pool, id);
    // Another shop's order's notification (and its attempts) answers as an unknown one.
    if (!n || !(await orderVisible(requirePrincipal(h), this.rt.pool, n.orderId))) throw new NotFoundException({ code: 'NOTIFICATION_NOT_FOUND', message: `notification ${id} not found` });
    return { ...notificationView(n), attemptsLog: await NotificationStore.attempts(this.rt.pool, id) };
  }

  @Post('notifications/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Render a template for a channel and locale against a real order (no message is sent)' })
  @Requires('read', 'Notification')
  async preview(@Body() dto: PreviewDto, @Headers() h: Record<string, string | undefined>) {
    return previewTemplate(
      { pool: this.rt.pool, config: this.rt.config, now: await this.rt.clock.now(), principal: requirePrincipal(h), ...(this.rt.email ? { html: (s: string, t: string, l: string) => this.rt.email?.html(s, t, l) ?? '' } : {}) },
      { template: dto.template, channel: dto.channel, locale: dto.locale ?? 'zh-CN', orderId: dto.orderId, ...(dto.event ? { event: dto.event } : {}) },
    );
  }

  @Get('notifications-config')
  @ApiOperation({ summary: 'Versions and content hash of the rules, templates and staff directory in use' })
  @Requires('read', 'Notification')
  configInfo() {
    const c = this.rt.config;
    return { rulesVersion: c.rules.version, templatesVersion: c.templates.version, staffVersion: c.staff.version, hash: c.hash, quietHours: c.rules.quietHours, rules: c.rules.rules };
  }

  @Put('contacts/:customerId')
  @ApiOperation({ summary: "Set a customer's contact details (phone, e-mail, WeChat open ids, locale)" })
  @Requires('update', 'Notification')
  async putContact(@Param('customerId', new IdParam('customerId')) customerId: string, @Body() dto: ContactDto) {
    await NotificationStore.putContact(this.rt.pool, {
      customerId,
      phone: dto.phone ?? null,
      email: dto.email ?? null,
      wechatOpenid: dto.wechatOpenId ?? null,
      miniprogramOpenid: dto.miniProgramOpenId ?? null,
      locale: dto.locale ?? 'zh-CN',
    });
    return this.preferences(customerId);
  }

  @Get('contacts/:customerId/preferences')
  @ApiOperation({ summary: "A customer's (masked) contacts and opted-out channels" })
  @Requires('read', 'Notification')
  async preferences(@Param('customerId', new IdParam('customerId')) customerId: string) {
    const c = await NotificationStore.contact(this.rt.pool, customerId);
    if (!c) throw new DomainError('CONTACT_NOT_FOUND', `no contact for customer ${customerId}`, { customerId }, 'not_found');
    return {
      customerId,
      phoneMasked: c.phone ? maskPhone(c.phone) : null,
      emailMasked: c.email ? maskEmail(c.email) : null,
      wechatOpenIdMasked: c.wechatOpenid ? maskOpenId(c.wechatOpenid) : null,
      miniProgramOpenIdMasked: c.miniprogramOpenid ? maskOpenId(c.miniprogramOpenid) : null,
      locale: c.locale,
      optedOut: await NotificationStore.optOuts(this.rt.pool, customerId),
    };
  }

  @Post('contacts/:customerId/opt-outs')
  @HttpCode(200)
  @ApiOperation({ summary: 'Opt a customer out of one channel (service messages on it stop; idempotent)' })
  @Requires('update', 'Notification')
  async optOut(@Param('customerId', new IdParam('customerId')) customerId: string, @Body() dto: OptOutDto) {
    await NotificationStore.optOut(this.rt.pool, customerId, dto.channel, 'api', await this.rt.clock.now());
    return this.preferences(customerId);
  }

  @Delete('contacts/:customerId/opt-outs/:channel')
  @ApiOperation({ summary: 'Opt back in to a channel' })
  @Requires('update', 'Notification')
  async optIn(@Param('customerId', new IdParam('customerId')) customerId: string, @Param('channel') channel: string) {
    // An unknown channel is refused (400 naming `channel`), not a silent no-op.
    await NotificationStore.optIn(this.rt.pool, customerId, enumValue('channel', channel, Object.fromEntries(CUSTOMER_CHANNELS.map((c) => [c, c]))) as string);
    return this.preferences(customerId);
  }

  @Post('inbound/aliyun-sms')
  @HttpCode(200)
  @ApiOperation({ summary: 'Aliyun SmsUp report: a reply "TD" / 退订 opts every customer with that number out of SMS' })
  @Requires('update', 'Notification')
  async smsUp(@Body() dto: AliyunSmsUpBatchDto) {
    let optedOut = 0;
    const now = await this.rt.clock.now();
    for (const m of dto.messages) {
      if (!SMS_OPT_OUT.test(m.content)) continue;
      const phone = m.phone_number.replace(/^\+?86(?=1\d{10}$)/, '');
      for (const customerId of await NotificationStore.customersByPhone(this.rt.pool, phone)) {
        await NotificationStore.optOut(this.rt.pool, customerId, 'sms', `sms-reply:${m.content.trim()}`, now);
        optedOut++;
      }
    }
    // Aliyun expects {"code":0,"msg":"成功"} to stop re-sending the report.
    return { code: 0, msg: '成功', optedOut };
  }

  @Post('inbound/aliyun-sms-report')
  @HttpCode(200)
  @ApiOperation({ summary: 'Aliyun SmsReport delivery receipts (matched by OutId = notification id): sent -> delivered, or failed with the carrier code' })
  @Requires('update', 'Notification')
  async smsReport(@Body() dto: AliyunSmsReportBatchDto, @Headers() h: Record<string, string | undefined>) {
    const principal = requirePrincipal(h);
    let applied = 0;
    for (const r of dto.reports) {
      // A shop-limited token changes nothing on another shop's notification (the provider's own account sees every shop).
      if (shopFilter(principal)) {
        const n = await NotificationStore.get(this.rt.pool, r.out_id);
        if (!n || !(await orderVisible(principal, this.rt.pool, n.orderId))) continue;
      }
      // Aliyun's report_time is Beijing time without a zone.
      const at = r.report_time && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r.report_time) ? new Date(`${r.report_time.replace(' ', 'T')}+08:00`).toISOString() : await this.rt.clock.now();
      if (await this.rt.applySmsReceipt(r.out_id, { delivered: r.success, at, code: r.err_code ?? null, message: r.err_msg ?? null })) applied++;
    }
    return { code: 0, msg: '成功', applied };
  }

  @Put('notifications-clock')
  @ApiOperation({ summary: 'Driven clock only (NOTIFICATION_CLOCK=driven): jump "now" for every instance (time flows on from there)' })
  @Requires('admin', 'Admin')
  async setClock(@Body() dto: DrivenClockDto) {
    if (!this.rt.clock.driven) throw new DomainError('CLOCK_NOT_DRIVEN', 'the clock is the system clock (set NOTIFICATION_CLOCK=driven)', {}, 'conflict');
    await NotificationStore.setDrivenNow(this.rt.pool, new Date(dto.now).toISOString());
    return { now: await this.rt.clock.now() };
  }
}
