import type { ChannelKind, NotificationRule, OrderFacts, PlannedNotification, RuleCondition, RuleSet, StaffDirectory, TriggerEvent } from './notification.types';

const CUSTOMER_CHANNELS: ReadonlySet<ChannelKind> = new Set(['sms', 'wechat_template', 'wechat_subscribe', 'email']);

function matches(when: RuleCondition | undefined, facts: OrderFacts): boolean {
  if (!when) return true;
  if (when.channels && !when.channels.includes(facts.channel)) return false;
  if (when.minAmount !== undefined && facts.grandTotal < when.minAmount) return false;
  if (when.maxAmount !== undefined && facts.grandTotal > when.maxAmount) return false;
  if (when.tags && !when.tags.some((t) => facts.tags.includes(t))) return false;
  return true;
}

/** The role whose approval is due now: an explicit `role`, else the step (steps are named after roles), else the chain's first step. */
export function dueApproverRole(data: Record<string, unknown>): string | undefined {
  if (typeof data.role === 'string' && data.role) return data.role;
  if (typeof data.step === 'string' && data.step) return data.step;
  const steps = data.steps;
  return Array.isArray(steps) && typeof steps[0] === 'string' ? steps[0] : undefined;
}

function staffFor(rule: NotificationRule, event: TriggerEvent, directory: StaffDirectory): PlannedNotification[] {
  const role = rule.to.audience === 'role' ? rule.to.role : rule.to.audience === 'approver' ? dueApproverRole(event.data) : undefined;
  if (!role) return [];
  const out: PlannedNotification[] = [];
  for (const member of directory.staff) {
    if (!member.roles.includes(role)) continue;
    for (const channel of rule.channels) {
      // Per-staff channel choice: a person is told only on the channels they chose.
      const target = member.channels[channel];
      if (target) out.push({ ruleId: rule.id, template: rule.template, channel, recipient: { kind: 'staff', staffId: member.id, name: member.name, target } });
    }
  }
  return out;
}

/**
 * Which messages an event calls for (pure): every rule on the event's type whose conditions hold,
 * times its recipients, times its channels. Customer rules need the order's facts and a customer id;
 * an event for an order notification has not seen (no OrderPlaced yet) plans no customer message.
 */
export function planNotifications(event: TriggerEvent, facts: OrderFacts | undefined, rules: RuleSet, directory: StaffDirectory): PlannedNotification[] {
  const planned: PlannedNotification[] = [];
  for (const rule of rules.rules) {
    if (rule.on !== event.type) continue;
    if (rule.when && (!facts || !matches(rule.when, facts))) continue;
    if (rule.to.audience === 'customer') {
      if (!facts?.customerId) continue;
      for (const channel of rule.channels) {
        if (CUSTOMER_CHANNELS.has(channel)) planned.push({ ruleId: rule.id, template: rule.template, channel, recipient: { kind: 'customer', customerId: facts.customerId } });
      }
    } else {
      planned.push(...staffFor(rule, event, directory));
    }
  }
  // One per (recipient, template, channel) even when two rules ask for the same message.
  const seen = new Set<string>();
  return planned.filter((p) => {
    const k = `${p.recipient.kind === 'customer' ? p.recipient.customerId : p.recipient.staffId}|${p.template}|${p.channel}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
