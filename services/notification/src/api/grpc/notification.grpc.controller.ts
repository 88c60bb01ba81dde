import { requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { notificationV1 } from '@flowline/contracts';
import { enumValue, ID_PATTERN, optionalId, pageSize, RequestValidationError, requireId } from '@flowline/platform';
import { previewTemplate } from '../../application/preview';
import { CHANNEL_KINDS, type ChannelKind } from '../../domain/notification.types';
import { LOCALES, type Locale } from '../../domain/templates';
import { NotificationRuntime } from '../../infra/notification-runtime';
import { NotificationStore, type NotificationRow, type NotificationStatus } from '../../infra/notification-store';
import { assertOwnPreference, setStaffPreference, staffPreferenceView, type StaffPreferenceView } from '../../application/staff-preferences';

const S = notificationV1.NotificationStatus;
const STATUS: Record<NotificationStatus, notificationV1.NotificationStatus> = {
  queued: S.NOTIFICATION_STATUS_QUEUED,
  sending: S.NOTIFICATION_STATUS_QUEUED,
  held: S.NOTIFICATION_STATUS_HELD,
  retrying: S.NOTIFICATION_STATUS_RETRYING,
  sent: S.NOTIFICATION_STATUS_SENT,
  delivered: S.NOTIFICATION_STATUS_DELIVERED,
  failed: S.NOTIFICATION_STATUS_FAILED,
  dead: S.NOTIFICATION_STATUS_DEAD,
  suppressed: S.NOTIFICATION_STATUS_SUPPRESSED,
};

const STATUS_NAMES: Readonly<Record<string, notificationV1.NotificationStatus>> = Object.fromEntries(Object.values(S).map((v) => [v, v]));
const CHANNEL_NAMES: Readonly<Record<string, ChannelKind>> = Object.fromEntries(CHANNEL_KINDS.map((c) => [c, c]));

/** Proto status -> the service's status filter (QUEUED also covers rows being sent). */
function statusFilter(s: notificationV1.NotificationStatus | undefined): NotificationStatus | undefined {
  if (!s || s === S.NOTIFICATION_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.entries(STATUS) as [NotificationStatus, notificationV1.NotificationStatus][]).find(([, v]) => v === s);
  return found?.[0];
}

export function notificationToProto(n: NotificationRow): notificationV1.Notification {
  return {
    notificationId: n.notificationId,
    orderId: n.orderId,
    channel: n.channel,
    recipientMasked: n.recipientMasked,
    template: n.template,
    status: STATUS[n.status],
    triggerEventType: n.triggerEventType,
    triggerEventId: n.triggerEventId,
    createdAt: n.createdAt,
    sentAt: n.sentAt ?? '',
    error: n.lastError ?? '',
    attempts: n.attempts,
    templateVersion: n.templateVersion,
    ruleId: n.ruleId,
    rulesVersion: n.rulesVersion,
    errorCode: n.lastCode ?? '',
    heldUntil: n.heldUntil ?? '',
    recipientKind: n.recipientKind,
    deliveredAt: n.deliveredAt ?? '',
  };
}

function staffPreferenceToProto(v: StaffPreferenceView): notificationV1.StaffPreference {
  return { staffId: v.staffId, name: v.name, channels: v.channels, available: v.available, source: v.source, updatedAt: v.updatedAt ?? '' };
}

@Controller()
export class NotificationGrpcController {
  constructor(private readonly rt: NotificationRuntime) {}

  @GrpcMethod('NotificationService', 'ListNotifications')
  @Requires('read', 'Notification')
  async listNotifications(req: notificationV1.ListNotificationsRequest, metadata: Metadata): Promise<notificationV1.ListNotificationsResponse> {
    // Bad ids, unknown channels / statuses, out-of-range page sizes and foreign page tokens are refused, never dropped or clamped.
    const size = pageSize('page.pageSize', req.page?.pageSize, { max: 500 }) ?? 50;
    const token = req.page?.pageToken ?? '';
    if (token && !/^\d{1,9}$/.test(token)) throw new RequestValidationError([{ field: 'page.pageToken', constraint: 'format', message: 'page.pageToken must be a token this service returned' }]);
    const offset = token ? Number(token) : 0;
    const filter = {
      orderId: optionalId('orderId', req.orderId),
      channel: enumValue('channel', req.channel, CHANNEL_NAMES, { optional: true }),
      status: statusFilter(enumValue('status', req.status, STATUS_NAMES, { optional: true })),
    };
    // Data scoping (ADR 0018), as REST: a shop-limited caller lists only their shops' orders' notifications.
    const shops = shopFilter(requirePrincipal(metadata));
    const rows = await NotificationStore.list(this.rt.pool, { ...filter, ...(shops ? { shops } : {}), limit: size + 1, offset });
    const more = rows.length > size;
    return { notifications: rows.slice(0, size).map(notificationToProto), page: { nextPageToken: more ? String(offset + size) : '', totalSize: 0 } };
  }

  @GrpcMethod('NotificationService', 'GetStaffPreference')
  @Requires('read', 'Notification')
  async getStaffPreference(req: notificationV1.GetStaffPreferenceRequest): Promise<notificationV1.GetStaffPreferenceResponse> {
    return { preference: staffPreferenceToProto(await staffPreferenceView(this.rt.pool, this.rt.config.staff, requireId('staffId', req.staffId))) };
  }

  @GrpcMethod('NotificationService', 'SetStaffPreference')
  @Requires('update', 'Notification')
  async setStaffPreference(req: notificationV1.SetStaffPreferenceRequest, metadata: Metadata): Promise<notificationV1.SetStaffPreferenceResponse> {
    const channels = req.channels ?? [];
    const errors: { field: string; constraint: string; message: string }[] = [];
    if (!ID_PATTERN.test(req.staffId ?? '')) errors.push({ field: 'staffId', constraint: req.staffId ? 'format' : 'required', message: 'staffId is required: letters, digits and . _ : @ / + -' });
    if (req.clear && channels.length > 0) errors.push({ field: 'channels', constraint: 'empty', message: 'channels must be empty with clear' });
    if (!req.clear && channels.length === 0) errors.push({ field: 'channels', constraint: 'arrayMinSize', message: 'channels needs at least one channel (or clear)' });
    if (channels.some((c) => !(CHANNEL_KINDS as readonly string[]).includes(c))) errors.push({ field: 'channels', constraint: 'isIn', message: `channels must be among ${CHANNEL_KINDS.join(', ')}` });
    if (errors.length) throw new RequestValidationError(errors);
    assertOwnPreference(requirePrincipal(metadata), req.staffId);
    const view = await setStaffPreference(this.rt.pool, this.rt.config.staff, req.staffId, req.clear ? null : (channels as ChannelKind[]), await this.rt.clock.now(), req.requestId || undefined);
    return { preference: staffPreferenceToProto(view) };
  }

  @GrpcMethod('NotificationService', 'PreviewTemplate')
  @Requires('read', 'Notification')
  async previewTemplate(req: notificationV1.PreviewTemplateRequest, metadata: Metadata): Promise<notificationV1.PreviewTemplateResponse> {
    const errors: string[] = [];
    if (!req.template) errors.push('template');
    if (!(CHANNEL_KINDS as readonly string[]).includes(req.channel)) errors.push('channel');
    if (req.locale && !(LOCALES as readonly string[]).includes(req.locale)) errors.push('locale');
    if (!ID_PATTERN.test(req.orderId ?? '')) errors.push('orderId');
    let data: Record<string, unknown> | undefined;
    if (req.eventDataJson) {
      try {
        const parsed: unknown = JSON.parse(req.eventDataJson);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) errors.push('eventDataJson');
        else data = parsed as Record<string, unknown>;
      } catch {
        errors.push('eventDataJson');
      }
    }
    if (errors.length) throw new RequestValidationError(errors.map((field) => ({ field, constraint: 'invalid', message: `${field} is missing or invalid` })));
    const r = await previewTemplate(
      { pool: this.rt.pool, config: this.rt.config, now: await this.rt.clock.now(), principal: requirePrincipal(metadata), ...(this.rt.email ? { html: (s: string, t: string, l: string) => this.rt.email?.html(s, t, l) ?? '' } : {}) },
      { template: req.template, channel: req.channel as ChannelKind, locale: (req.locale || 'zh-CN') as Locale, orderId: req.orderId, ...(req.eventType ? { event: { type: req.eventType, ...(data ? { data } : {}) } } : {}) },
    );
    const m = r.message;
    return {
      template: r.template,
      templateVersion: r.templateVersion ?? 0,
      locale: r.locale,
      kind: m.kind,
      text: m.kind === 'wechat' ? '' : m.text,
      subject: m.kind === 'email' ? m.subject : m.kind === 'robot' ? m.title : '',
      wechatTemplateId: m.kind === 'wechat' ? m.templateId : '',
      wechatFields: m.kind === 'wechat' ? m.fields : {},
      html: r.html ?? '',
    };
  }
}
