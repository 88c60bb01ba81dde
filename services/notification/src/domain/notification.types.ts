/** Where a message goes. Customer channels reach a buyer; staff channels reach a person or a group robot. */
export const CHANNEL_KINDS = ['sms', 'wechat_template', 'wechat_subscribe', 'email', 'dingtalk', 'wecom', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** Who a rule tells: the order's customer, everyone holding a role, or the approver of the step now due. */
export type Audience = { audience: 'customer' } | { audience: 'role'; role: string } | { audience: 'approver' } | { audience: 'owner' };

export interface RuleCondition {
  /** Only orders from these sales channels (taobao, jd, web, ...). */
  channels?: string[];
  /** Only orders whose grand total (fen) is at least / at most this. */
  minAmount?: number;
  maxAmount?: number;
  /** Only orders carrying at least one of these tags. */
  tags?: string[];
}

export interface NotificationRule {
  id: string;
  /** Integration event type that triggers it (e.g. `OrderShipped`). */
  on: string;
  template: string;
  to: Audience;
  channels: ChannelKind[];
  when?: RuleCondition;
}

export interface QuietHours {
  /** `HH:mm` local time the quiet window starts (inclusive). */
  start: string;
  /** `HH:mm` local time it ends (exclusive). */
  end: string;
  timeZone: string;
}

export interface RuleSet {
  version: string;
  quietHours: QuietHours;
  rules: NotificationRule[];
}

export interface StaffMember {
  id: string;
  name: string;
  roles: string[];
  /** Per-staff channel choice: channel -> where (robot name, e-mail address, webhook env name). */
  channels: Partial<Record<ChannelKind, string>>;
}

export interface RobotConfig {
  kind: 'dingtalk' | 'wecom';
  urlEnv: string;
  secretEnv?: string;
}

export interface StaffDirectory {
  version: string;
  robots: Record<string, RobotConfig>;
  staff: StaffMember[];
  /** Shop id -> the staff id of the shop's owner (the order's owner when no staff member has acted on it). */
  shops?: Record<string, string>;
}

/** What notification keeps about an order from its events (no clear PII: names and phones are masked upstream). */
export interface OrderFacts {
  orderId: string;
  channel: string;
  channelOrderId: string;
  /** The channel's customer id: the key of the customer's contact entry. */
  customerId: string | null;
  customerNameMasked: string | null;
  tags: string[];
  /** Integer fen. */
  grandTotal: number;
  currency: string;
  itemCount: number;
  firstTitle: string;
  carrier?: string | null;
  trackingNumber?: string | null;
  shopId?: string | null;
  /** The staff member (actor kind `user`) of the latest consumed event that named one. */
  lastActorId?: string | null;
}

/** An integration event as the planner sees it. */
export interface TriggerEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export type Recipient = { kind: 'customer'; customerId: string } | { kind: 'staff'; staffId: string; name: string; target: string };

/** One message to send: the unique key of a notification is (event, recipient, template, channel). */
export interface PlannedNotification {
  ruleId: string;
  template: string;
  channel: ChannelKind;
  recipient: Recipient;
}

export function recipientKey(r: Recipient): string {
  return r.kind === 'customer' ? `customer:${r.customerId}` : `staff:${r.staffId}`;
}
