/**
 * Notification's public surface: what was sent to whom about an order, on `notification.events.v1`
 * keyed by orderId. No clear PII: recipients are masked (138****5678, c***@x.com, a staff name).
 */

/** Delivery channels. Customer: sms, wechat_template (official account), wechat_subscribe (mini program), email. Staff: dingtalk, wecom, email, webhook. */
export type NotificationChannel = 'sms' | 'wechat_template' | 'wechat_subscribe' | 'email' | 'dingtalk' | 'wecom' | 'webhook';

/** What every notification event says about the message. */
export interface NotificationRef {
  notificationId: string;
  orderId: string;
  channel: NotificationChannel;
  /** Template name and version, e.g. `order_shipped` v1. */
  template: string;
  templateVersion: number;
  /** Rule (and rules file version) that asked for it. */
  ruleId: string;
  rulesVersion: string;
  recipientKind: 'customer' | 'staff';
  /** Masked phone / e-mail / open id, or the staff member's display name. */
  recipientMasked: string;
  /** The integration event that triggered it. */
  triggerEventId: string;
  triggerEventType: string;
}

export interface NotificationEventDataMap {
  /** The provider accepted the message (`delivered` when the channel confirms delivery synchronously, e.g. robots). */
  NotificationSent: NotificationRef & { attempts: number; providerMessageId?: string; delivered: boolean; sentAt: string };
  /**
   * The message will not be sent: a permanent provider refusal (`retried: false`, e.g. WeChat 43101
   * no subscription left) or transient errors until the retry budget ran out (`retried: true`: dead letter).
   */
  NotificationFailed: NotificationRef & { attempts: number; code: string; reason: string; retried: boolean; failedAt: string };
  /** Not sent on purpose: the customer opted out of the channel, or has no address for it. */
  NotificationSuppressed: NotificationRef & { reason: 'opted_out' | 'no_address'; suppressedAt: string };
}

export type NotificationEventType = keyof NotificationEventDataMap;
export const NOTIFICATION_EVENT_TYPES = ['NotificationSent', 'NotificationFailed', 'NotificationSuppressed'] as const satisfies readonly NotificationEventType[];
