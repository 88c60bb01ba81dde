import type { NotificationEventDataMap, NotificationEventType, NotificationRef } from '@flowline/contracts';
import type { NewEvent } from '@flowline/eventstore';
import type { NotificationRow } from '../infra/notification-store';

export const NOTIFICATION_STREAM_PREFIX = 'notification-';

export function notificationStream(notificationId: string): string {
  return `${NOTIFICATION_STREAM_PREFIX}${notificationId}`;
}

export function refOf(n: Pick<NotificationRow, 'notificationId' | 'orderId' | 'channel' | 'template' | 'templateVersion' | 'ruleId' | 'rulesVersion' | 'recipientKind' | 'recipientMasked' | 'triggerEventId' | 'triggerEventType'>): NotificationRef {
  return {
    notificationId: n.notificationId,
    orderId: n.orderId,
    channel: n.channel,
    template: n.template,
    templateVersion: n.templateVersion,
    ruleId: n.ruleId,
    rulesVersion: n.rulesVersion,
    recipientKind: n.recipientKind,
    recipientMasked: n.recipientMasked,
    triggerEventId: n.triggerEventId,
    triggerEventType: n.triggerEventType,
  };
}

/** A notification event as stored in the service's log; the relay publishes it unchanged on notification.events.v1. */
export function notificationEvent<K extends NotificationEventType>(
  type: K,
  data: NotificationEventDataMap[K],
  meta: { eventId: string; correlationId: string; causationId: string; at: string },
): NewEvent<NotificationEventDataMap[K]> {
  return {
    eventId: meta.eventId,
    type,
    schemaVersion: 1,
    data,
    metadata: { correlationId: meta.correlationId, causationId: meta.causationId, occurredAt: meta.at, actor: { kind: 'service', id: 'notification', name: 'notification' } },
  };
}
