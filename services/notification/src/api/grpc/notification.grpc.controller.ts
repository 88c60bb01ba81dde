import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { notificationV1 } from '@flowline/contracts';
import { NotificationRuntime } from '../../infra/notification-runtime';
import { NotificationStore, type NotificationRow } from '../../infra/notification-store';

// proto v1 has queued / sent / failed; the finer states map onto them and `error` says which.
const S = notificationV1.NotificationStatus;
const STATUS: Record<NotificationRow['status'], notificationV1.NotificationStatus> = {
  queued: S.NOTIFICATION_STATUS_QUEUED,
  held: S.NOTIFICATION_STATUS_QUEUED,
  retrying: S.NOTIFICATION_STATUS_QUEUED,
  sending: S.NOTIFICATION_STATUS_QUEUED,
  sent: S.NOTIFICATION_STATUS_SENT,
  delivered: S.NOTIFICATION_STATUS_SENT,
  failed: S.NOTIFICATION_STATUS_FAILED,
  dead: S.NOTIFICATION_STATUS_FAILED,
  suppressed: S.NOTIFICATION_STATUS_FAILED,
};

export function notificationToProto(n: NotificationRow): notificationV1.Notification {
  const detail = n.status === 'held' ? `held until ${n.heldUntil}` : n.status === 'suppressed' ? `suppressed: ${n.lastCode}` : n.status === 'dead' || n.status === 'failed' || n.status === 'retrying' ? `${n.status}: ${n.lastCode} ${n.lastError ?? ''}`.trim() : '';
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
    error: detail,
  };
}

@Controller()
export class NotificationGrpcController {
  constructor(private readonly rt: NotificationRuntime) {}

  @GrpcMethod('NotificationService', 'ListNotifications')
  async listNotifications(req: notificationV1.ListNotificationsRequest): Promise<notificationV1.ListNotificationsResponse> {
    const size = Math.min(Math.max(req.page?.pageSize ?? 50, 1), 500);
    const offset = req.page?.pageToken && /^\d+$/.test(req.page.pageToken) ? Number(req.page.pageToken) : 0;
    const rows = await NotificationStore.list(this.rt.pool, { orderId: req.orderId || undefined, channel: req.channel || undefined, limit: size + 1, offset });
    const more = rows.length > size;
    return { notifications: rows.slice(0, size).map(notificationToProto), page: { nextPageToken: more ? String(offset + size) : '', totalSize: 0 } };
  }
}
