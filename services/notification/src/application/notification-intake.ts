import { contractRegistry, maskEmail, maskPhone, type EventEnvelope } from '@flowline/contracts';
import type { PostgresEventStore, StreamAppend } from '@flowline/eventstore';
import type { PoolClient } from 'pg';
import { planNotifications } from '../domain/notification-rules.policy';
import { recipientKey, type ChannelKind, type OrderFacts, type PlannedNotification, type TriggerEvent } from '../domain/notification.types';
import { releaseTime } from '../domain/quiet-hours';
import { templateVars } from '../domain/template-vars';
import { LOCALES, renderMessage, TemplateError, type Locale, type RenderedMessage } from '../domain/templates';
import type { NotificationConfig } from '../infra/notification-config';
import { NotificationStore, type ContactRow, type CustomerContact, type NewNotification } from '../infra/notification-store';
import type { Clock } from './clock';
import { notificationEvent, notificationStream, refOf } from './notification-events';
import { applyStaffPreferences, loadStaffPreferences } from './staff-preferences';

/** Event types whose data the service keeps about an order (see factsFrom). */
export const FACT_EVENT_TYPES = ['OrderPlaced', 'OrderShipped', 'ShipmentShipped'] as const;

/**
 * Published types keyed by something other than the order (stock levels, ATP, receipts: keyed by
 * SKU). Their data names no order, so no rule fires on them and they make nobody an order's owner:
 * the consumer drops them by their `type` header, before parsing their JSON (issue #10).
 */
const NOT_ABOUT_AN_ORDER: ReadonlySet<string> = new Set(
  contractRegistry
    .types({ kind: 'event' })
    .filter((t) => t.partitionKey !== undefined && t.partitionKey !== 'orderId')
    .map((t) => t.type),
);

/** False for a type whose events never name an order (the intake would ignore them); true for any other, unknown types included. */
export function mayConcernAnOrder(type: string): boolean {
  return !NOT_ABOUT_AN_ORDER.has(type);
}

/** The event types whose data the service keeps about an order (for templates and rule conditions). */
function factsFrom(e: EventEnvelope): { upsert?: OrderFacts; patch?: Partial<OrderFacts> } {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'OrderPlaced': {
      const p = d as {
        orderId: string; channel: string; channelOrderId: string; shopId?: string; customer: { channelCustomerId?: string; nickname?: string; nameMasked?: string };
        tags: string[]; totals: { grandTotal: number; currency: string }; lines: { title: string; quantity: number }[];
      };
      return {
        upsert: {
          orderId: p.orderId,
          channel: p.channel,
          channelOrderId: p.channelOrderId,
          customerId: p.customer.channelCustomerId ?? p.customer.nickname ?? null,
          customerNameMasked: p.customer.nameMasked ?? null,
          tags: [...(p.tags ?? [])],
          grandTotal: p.totals.grandTotal,
          currency: p.totals.currency,
          itemCount: p.lines.reduce((s, l) => s + l.quantity, 0),
          firstTitle: p.lines[0]?.title ?? '',
          shopId: p.shopId ?? null,
        },
      };
    }
    case 'OrderShipped':
    case 'ShipmentShipped':
      return { patch: { carrier: String(d.carrier), trackingNumber: String(d.trackingNumber) } };
    default:
      return {};
  }
}

function customerAddress(contact: ContactRow | undefined, channel: ChannelKind): { address: string; masked: string } | undefined {
  if (!contact) return undefined;
  switch (channel) {
    case 'sms':
      return contact.phone ? { address: contact.phone, masked: maskPhone(contact.phone) } : undefined;
    case 'email':
      return contact.email ? { address: contact.email, masked: maskEmail(contact.email) } : undefined;
    case 'wechat_template':
      return contact.wechatOpenid ? { address: contact.wechatOpenid, masked: maskOpenId(contact.wechatOpenid) } : undefined;
    case 'wechat_subscribe':
      return contact.miniprogramOpenid ? { address: contact.miniprogramOpenid, masked: maskOpenId(contact.miniprogramOpenid) } : undefined;
    default:
      return undefined;
  }
}

export function maskOpenId(id: string): string {
  return id.length <= 8 ? '****' : `${id.slice(0, 4)}****${id.slice(-4)}`;
}

/** Per rules version: the event types some customer rule reacts to (their contact is read with the facts). */
const customerTypesOf = new WeakMap<NotificationConfig['rules'], ReadonlySet<string>>();
function customerRuleTypes(config: NotificationConfig): ReadonlySet<string> {
  let types = customerTypesOf.get(config.rules);
  if (!types) customerTypesOf.set(config.rules, (types = new Set(config.rules.rules.filter((r) => r.to.audience === 'customer').map((r) => r.on))));
  return types;
}

const asLocale = (l: string | undefined): Locale => ((LOCALES as readonly string[]).includes(l ?? '') ? (l as Locale) : 'zh-CN');

export interface IntakeDeps {
  config: () => NotificationConfig;
  /** Demo only (`npm start`): the contact used for customers who have none, so the fakes show every message. */
  demoContact?: ContactRow;
  events: PostgresEventStore;
  clock: Clock;
  newId: () => string;
}

/**
 * Turns one consumed integration event into notifications, inside the consumer's transaction
 * (the inbox row, the order facts and the notification rows commit together). A notification is
 * queued, held for quiet hours, or recorded as suppressed / failed at once; the dispatcher sends.
 */
export class NotificationIntake {
  constructor(private readonly deps: IntakeDeps) {}

  async apply(envelope: EventEnvelope, client: PoolClient): Promise<number> {
    const data = envelope.data as Record<string, unknown> | null;
    const orderId = typeof data?.orderId === 'string' ? data.orderId : undefined;
    if (!orderId) return 0;
    const f = factsFrom(envelope);
    // The order's owner: the staff member who last acted on it (see orderOwner).
    const patch: Partial<OrderFacts> = { ...(f.patch ?? {}), ...(envelope.actor?.kind === 'user' && envelope.actor.id ? { lastActorId: envelope.actor.id } : {}) };
    const config = this.deps.config();
    // Facts written and read back in one statement (issue #10: was up to 4), with the contact of
    // the customer they name when a customer rule reacts to this type (one statement, not two).
    const { facts, customer: known } = await NotificationStore.writeFacts(client, orderId, { ...(f.upsert ? { upsert: f.upsert } : {}), patch }, customerRuleTypes(config).has(envelope.type));
    const trigger: TriggerEvent = { eventId: envelope.eventId, type: envelope.type, occurredAt: envelope.occurredAt, data: data ?? {} };
    // Per-staff channel choice: the API's stored choices over staff.yaml's defaults. A choice only
    // narrows a member's channels, so the stored choices are read only when staff are to be told.
    let planned = planNotifications(trigger, facts, config.rules, config.staff);
    if (planned.length === 0) return 0;
    if (planned.some((p) => p.recipient.kind === 'staff')) planned = planNotifications(trigger, facts, config.rules, applyStaffPreferences(config.staff, await loadStaffPreferences(client)));
    const now = await this.deps.clock.now();
    const customers = new Map<string, Promise<CustomerContact>>();
    if (known) customers.set(known.customerId, Promise.resolve(known));
    const customer = (id: string) => {
      let c = customers.get(id);
      if (!c) customers.set(id, (c = NotificationStore.contactAndOptOuts(client, id)));
      return c;
    };
    const built: NewNotification[] = [];
    for (const p of planned) built.push(await this.build(envelope, trigger, orderId, facts, p, config, now, customer));
    // Every notification of the event in one statement; the dedup key keeps a redelivery from repeating one.
    const inserted = await NotificationStore.insertMany(client, built);
    // The suppressed / failed ones' events, every stream new (its notification id), in one statement.
    const appends: StreamAppend[] = [];
    for (const n of built) {
      if (!inserted.has(n.dedupKey)) continue;
      const meta = { eventId: this.deps.newId(), correlationId: envelope.correlationId, causationId: envelope.eventId, at: now };
      const ref = refOf(n);
      if (n.status === 'suppressed') {
        appends.push({ streamId: notificationStream(n.notificationId), events: [notificationEvent('NotificationSuppressed', { ...ref, reason: n.lastCode === 'opted_out' ? 'opted_out' : 'no_address', suppressedAt: now }, meta)], expectedRevision: 'no_stream' });
      } else if (n.status === 'failed') {
        appends.push({ streamId: notificationStream(n.notificationId), events: [notificationEvent('NotificationFailed', { ...ref, attempts: 0, code: n.lastCode ?? 'FAILED', reason: n.lastError ?? '', retried: false, failedAt: now }, meta)], expectedRevision: 'no_stream' });
      }
    }
    if (appends.length > 0) await this.deps.events.appendToStreamsWithin(client, appends);
    return inserted.size;
  }

  private async build(
    envelope: EventEnvelope,
    trigger: TriggerEvent,
    orderId: string,
    facts: OrderFacts | undefined,
    p: PlannedNotification,
    config: NotificationConfig,
    now: string,
    customer: (id: string) => Promise<CustomerContact>,
  ): Promise<NewNotification> {
    const template = config.templates.templates[p.template];
    let locale: Locale = 'zh-CN';
    let address = '';
    let masked = '';
    let status: NewNotification['status'] = 'queued';
    let code: string | null = null;
    let error: string | null = null;
    if (p.recipient.kind === 'customer') {
      const known = await customer(p.recipient.customerId);
      const contact = known.contact ?? (this.deps.demoContact ? { ...this.deps.demoContact, customerId: p.recipient.customerId } : undefined);
      locale = asLocale(contact?.locale);
      const a = customerAddress(contact, p.channel);
      if (!a) {
        status = 'suppressed';
        code = 'no_address';
        masked = '-';
      } else {
        address = a.address;
        masked = a.masked;
        if (known.optedOut.has(p.channel)) {
          status = 'suppressed';
          code = 'opted_out';
        }
      }
    } else {
      address = p.recipient.target;
      masked = p.recipient.name;
    }
    let message: RenderedMessage = { kind: 'text', text: '' };
    // Staff messages can come from another topic before the order's OrderPlaced: render them when sending.
    const renderPending = status === 'queued' && !facts;
    if (status === 'queued' && !renderPending) {
      try {
        message = renderMessage(config.templates, p.template, p.channel, locale, templateVars(trigger, facts, p.recipient.kind === 'staff' ? { approver: p.recipient.name } : {}));
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        status = 'failed';
        code = e.code;
        error = e.message;
      }
    }
    let nextAttemptAt: string | null = status === 'queued' ? now : null;
    let heldUntil: string | null = null;
    // Quiet hours are for customers; staff reminders go at once.
    if (status === 'queued' && p.recipient.kind === 'customer') {
      const r = releaseTime(now, config.rules.quietHours);
      if (r.held) {
        status = 'held';
        nextAttemptAt = r.at;
        heldUntil = r.at;
      }
    }
    return {
      notificationId: this.deps.newId(),
      dedupKey: `${envelope.eventId}|${recipientKey(p.recipient)}|${p.template}|${p.channel}`,
      orderId,
      triggerEventId: envelope.eventId,
      triggerEventType: envelope.type,
      correlationId: envelope.correlationId,
      ruleId: p.ruleId,
      rulesVersion: config.rules.version,
      template: p.template,
      templateVersion: template?.version ?? 0,
      locale,
      channel: p.channel,
      recipientKind: p.recipient.kind,
      recipientKey: recipientKey(p.recipient),
      recipientMasked: masked,
      address,
      message,
      renderPending,
      trigger,
      status,
      nextAttemptAt,
      heldUntil,
      lastCode: code,
      lastError: error,
      now,
    };
  }
}

/** NOTIFICATION_DEMO_CONTACT="phone=13800000000,email=demo@x.cn,wechat=oDemo...,mini=oMini...": demo fallback contact. */
export function demoContactFromEnv(value: string | undefined): ContactRow | undefined {
  if (!value) return undefined;
  const kv = Object.fromEntries(value.split(',').map((p) => p.split('=').map((x) => x.trim()) as [string, string]));
  return { customerId: '', phone: kv.phone ?? null, email: kv.email ?? null, wechatOpenid: kv.wechat ?? null, miniprogramOpenid: kv.mini ?? null, locale: kv.locale ?? 'zh-CN' };
}
