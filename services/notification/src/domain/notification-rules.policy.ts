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

/** Who must decide now, from an approval event: principals `user:<id>` / `role:<role>`. */
export interface DueApprovers {
  users: string[];
  roles: string[];
}

function addPrincipal(out: DueApprovers, p: unknown): void {
  if (typeof p !== 'string' || !p) return;
  if (p.startsWith('user:')) out.users.push(p.slice(5));
  else if (p.startsWith('role:')) out.roles.push(p.slice(5));
  else out.roles.push(p);
}

/**
 * The approvers an approval event calls on (pure): the reminded `principals`, the escalation
 * target `to`, the step's `approvers` (user ids) and `role`; for ApprovalRequested without a plan,
 * the first step (chains name steps after roles).
 */
export function dueApprovers(data: Record<string, unknown>): DueApprovers {
  const out: DueApprovers = { users: [], roles: [] };
  if (Array.isArray(data.principals)) data.principals.forEach((p) => addPrincipal(out, p));
  addPrincipal(out, data.to);
  if (Array.isArray(data.approvers)) data.approvers.forEach((u) => typeof u === 'string' && out.users.push(u.replace(/^user:/, '')));
  if (typeof data.role === 'string' && data.role) out.roles.push(data.role);
  if (out.users.length === 0 && out.roles.length === 0) {
    if (typeof data.step === 'string' && data.step) out.roles.push(data.step);
    else if (Array.isArray(data.steps) && typeof data.steps[0] === 'string') out.roles.push(data.steps[0]);
  }
  return out;
}

/**
 * The order's owner (pure): the staff member who last acted on the order (the `user` actor of the
 * latest consumed event naming one, if they are in the directory), else the owner of the order's
 * shop (`shops` in staff.yaml), else nobody.
 */
export function orderOwner(facts: OrderFacts | undefined, directory: StaffDirectory): string | undefined {
  if (facts?.lastActorId && directory.staff.some((s) => s.id === facts.lastActorId)) return facts.lastActorId;
  const shopOwner = facts?.shopId ? directory.shops?.[facts.shopId] : undefined;
  return shopOwner && directory.staff.some((s) => s.id === shopOwner) ? shopOwner : undefined;
}

function staffFor(rule: NotificationRule, event: TriggerEvent, directory: StaffDirectory, facts: OrderFacts | undefined): PlannedNotification[] {
  const owner = rule.to.audience === 'owner' ? orderOwner(facts, directory) : undefined;
  const who: DueApprovers =
    rule.to.audience === 'role' ? { users: [], roles: [rule.to.role] } : rule.to.audience === 'approver' ? dueApprovers(event.data) : owner ? { users: [owner], roles: [] } : { users: [], roles: [] };
  const out: PlannedNotification[] = [];
  for (const member of directory.staff) {
    if (!who.users.includes(member.id) && !member.roles.some((r) => who.roles.includes(r))) continue;
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
      planned.push(...staffFor(rule, event, directory, facts));
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
