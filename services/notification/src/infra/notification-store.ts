import { namedStatement, pgTransactions } from '@flowline/messaging';
import { runMigrations, type Migration } from '@flowline/platform';
import type { Pool, PoolClient } from 'pg';
import type { ChannelKind, OrderFacts, TriggerEvent } from '../domain/notification.types';
import type { RenderedMessage } from '../domain/templates';
import { STAFF_PREFERENCES_DDL } from '../application/staff-preferences';

type Db = Pick<Pool, 'query'> | PoolClient;

/** Delivery states: queued/held/retrying wait for the dispatcher; sending is leased; the rest are final. */
export const NOTIFICATION_STATUSES = ['queued', 'held', 'retrying', 'sending', 'sent', 'delivered', 'failed', 'dead', 'suppressed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

const DDL = `
CREATE SCHEMA IF NOT EXISTS notification;
CREATE TABLE IF NOT EXISTS notification.order_facts (
  order_id text PRIMARY KEY,
  facts jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Customer contact details (clear PII): only here, never in events or logs.
CREATE TABLE IF NOT EXISTS notification.customer_contact (
  customer_id text PRIMARY KEY,
  phone text,
  email text,
  wechat_openid text,
  miniprogram_openid text,
  locale text NOT NULL DEFAULT 'zh-CN',
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS notification.opt_out (
  customer_id text NOT NULL,
  channel text NOT NULL,
  source text NOT NULL,
  opted_out_at timestamptz NOT NULL,
  PRIMARY KEY (customer_id, channel)
);
CREATE TABLE IF NOT EXISTS notification.notification (
  notification_id text PRIMARY KEY,
  -- One notification per (event, recipient, template, channel), whatever redelivers the event or runs twice.
  dedup_key text NOT NULL UNIQUE,
  order_id text NOT NULL,
  trigger_event_id text NOT NULL,
  trigger_event_type text NOT NULL,
  correlation_id text NOT NULL,
  rule_id text NOT NULL,
  rules_version text NOT NULL,
  template text NOT NULL,
  template_version integer NOT NULL,
  locale text NOT NULL,
  channel text NOT NULL,
  recipient_kind text NOT NULL,
  recipient_key text NOT NULL,
  recipient_masked text NOT NULL,
  address text NOT NULL,
  message jsonb NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  lease_until timestamptz,
  held_until timestamptz,
  provider_message_id text,
  last_code text,
  last_error text,
  created_at timestamptz NOT NULL,
  sent_at timestamptz,
  delivered_at timestamptz,
  updated_at timestamptz NOT NULL
);
-- The triggering event (for rendering at send time when the order's facts had not arrived yet).
ALTER TABLE notification.notification ADD COLUMN IF NOT EXISTS trigger jsonb;
ALTER TABLE notification.notification ADD COLUMN IF NOT EXISTS render_pending boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS notification_due_idx ON notification.notification (next_attempt_at) WHERE status IN ('queued', 'held', 'retrying', 'sending');
CREATE INDEX IF NOT EXISTS notification_order_idx ON notification.notification (order_id, created_at);
CREATE TABLE IF NOT EXISTS notification.delivery_attempt (
  notification_id text NOT NULL REFERENCES notification.notification (notification_id),
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  outcome text NOT NULL,
  code text,
  message text,
  PRIMARY KEY (notification_id, attempt)
);
-- One access_token per WeChat app, shared by every instance (refreshed before expiry under a row lock).
CREATE TABLE IF NOT EXISTS notification.wechat_token (
  app_id text PRIMARY KEY,
  access_token text NOT NULL,
  expires_at timestamptz NOT NULL,
  refreshed_at timestamptz NOT NULL,
  refreshes integer NOT NULL DEFAULT 1
);
-- Sends per robot for the per-minute limit, shared by every instance.
CREATE TABLE IF NOT EXISTS notification.robot_send (
  robot text NOT NULL,
  sent_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS robot_send_idx ON notification.robot_send (robot, sent_at);
-- The driven clock (NOTIFICATION_CLOCK=driven): one row every instance reads. Time set to \`now\`
-- at \`set_at\` (real time) and flowing on from there, so backoffs still elapse between jumps.
CREATE TABLE IF NOT EXISTS notification.driven_clock (
  id integer PRIMARY KEY CHECK (id = 1),
  now timestamptz NOT NULL,
  set_at timestamptz NOT NULL
);
`;

/**
 * notification's tables as versioned, checksummed, forward-only migrations (libs/platform
 * runMigrations, scope `notification`, under its advisory lock). A change is a new migration
 * appended here, never an edit of a released one; v1 keeps `IF NOT EXISTS` so databases created
 * before migrations existed are adopted as they are.
 */
export function notificationMigrations(): Migration[] {
  return [
    { version: 1, name: 'baseline: order_facts, customer_contact, opt_out, notification, delivery_attempt, wechat_token, robot_send, driven_clock, staff_preference, http_idempotency', statements: [DDL, STAFF_PREFERENCES_DDL] },
    {
      version: 2,
      name: "order_facts by shop: a shop-limited user's notification list filters on the order's shop",
      statements: [`CREATE INDEX IF NOT EXISTS order_facts_shop_idx ON notification.order_facts ((facts->>'shopId'))`],
    },
  ];
}

export async function migrateNotification(pool: Pool): Promise<void> {
  await runMigrations(pgTransactions(pool), 'notification', notificationMigrations());
}

export interface ContactRow {
  customerId: string;
  phone: string | null;
  email: string | null;
  wechatOpenid: string | null;
  miniprogramOpenid: string | null;
  locale: string;
}

export interface NewNotification {
  notificationId: string;
  dedupKey: string;
  orderId: string;
  triggerEventId: string;
  triggerEventType: string;
  correlationId: string;
  ruleId: string;
  rulesVersion: string;
  template: string;
  templateVersion: number;
  locale: string;
  channel: ChannelKind;
  recipientKind: 'customer' | 'staff';
  recipientKey: string;
  recipientMasked: string;
  address: string;
  message: RenderedMessage;
  /** Rendered at send time: a staff message about an order whose facts (OrderPlaced) have not arrived yet. */
  renderPending: boolean;
  trigger: TriggerEvent;
  status: 'queued' | 'held' | 'suppressed' | 'failed';
  nextAttemptAt: string | null;
  heldUntil: string | null;
  lastCode: string | null;
  lastError: string | null;
  now: string;
}

export interface NotificationRow {
  notificationId: string;
  orderId: string;
  triggerEventId: string;
  triggerEventType: string;
  correlationId: string;
  ruleId: string;
  rulesVersion: string;
  template: string;
  templateVersion: number;
  locale: string;
  channel: ChannelKind;
  recipientKind: 'customer' | 'staff';
  recipientKey: string;
  recipientMasked: string;
  address: string;
  message: RenderedMessage;
  renderPending: boolean;
  trigger: TriggerEvent | null;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: string | null;
  heldUntil: string | null;
  providerMessageId: string | null;
  lastCode: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));

/**
 * The columns toRow reads, for statements prepared once per connection: a prepared `RETURNING *`
 * would fail ("cached plan must not change result type") on every replica still running when a
 * migration adds a column.
 */
const ROW_COLUMNS = [
  'notification_id', 'order_id', 'trigger_event_id', 'trigger_event_type', 'correlation_id', 'rule_id', 'rules_version', 'template', 'template_version', 'locale',
  'channel', 'recipient_kind', 'recipient_key', 'recipient_masked', 'address', 'message', 'render_pending', 'trigger', 'status', 'attempts', 'next_attempt_at',
  'held_until', 'provider_message_id', 'last_code', 'last_error', 'created_at', 'sent_at', 'delivered_at',
] as const;

function toRow(r: Record<string, unknown>): NotificationRow {
  return {
    notificationId: r.notification_id as string,
    orderId: r.order_id as string,
    triggerEventId: r.trigger_event_id as string,
    triggerEventType: r.trigger_event_type as string,
    correlationId: r.correlation_id as string,
    ruleId: r.rule_id as string,
    rulesVersion: r.rules_version as string,
    template: r.template as string,
    templateVersion: r.template_version as number,
    locale: r.locale as string,
    channel: r.channel as ChannelKind,
    recipientKind: r.recipient_kind as 'customer' | 'staff',
    recipientKey: r.recipient_key as string,
    recipientMasked: r.recipient_masked as string,
    address: r.address as string,
    message: r.message as RenderedMessage,
    renderPending: r.render_pending === true,
    trigger: (r.trigger as TriggerEvent | null) ?? null,
    status: r.status as NotificationStatus,
    attempts: r.attempts as number,
    nextAttemptAt: iso(r.next_attempt_at),
    heldUntil: iso(r.held_until),
    providerMessageId: (r.provider_message_id as string | null) ?? null,
    lastCode: (r.last_code as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: iso(r.created_at) ?? '',
    sentAt: iso(r.sent_at),
    deliveredAt: iso(r.delivered_at),
  };
}

interface ContactQueryRow {
  found: boolean;
  phone: string | null;
  email: string | null;
  wechat_openid: string | null;
  miniprogram_openid: string | null;
  locale: string | null;
  opted_out: string[];
}

/** A customer's contact (undefined without a row) and opted-out channels, as the intake needs them. */
export interface CustomerContact {
  contact: ContactRow | undefined;
  optedOut: ReadonlySet<string>;
}

/** An order's facts after a write, and (when asked) the contact of the customer they name. */
export interface FactsAndCustomer {
  facts: OrderFacts | undefined;
  customer?: CustomerContact & { customerId: string };
}

function contactOf(customerId: string, c: ContactQueryRow): CustomerContact {
  return {
    contact: c.found ? { customerId, phone: c.phone, email: c.email, wechatOpenid: c.wechat_openid, miniprogramOpenid: c.miniprogram_openid, locale: c.locale ?? 'zh-CN' } : undefined,
    optedOut: new Set(c.opted_out),
  };
}

/** One attempt and the notification's state after it (NotificationStore.recordOutcomes). */
export interface RecordedOutcome {
  notificationId: string;
  attempt: number;
  at: string;
  /** What the attempt came to: sent, delivered, retry, failed, dead. */
  outcome: string;
  status: NotificationStatus;
  nextAttemptAt?: string | null;
  providerMessageId?: string | null;
  /** The provider's code and text for this attempt (null when it succeeded). */
  attemptCode: string | null;
  attemptMessage: string | null;
  /** The notification's last code and error (kept as they were when null). */
  code?: string | null;
  error?: string | null;
  /** A message rendered at send time (stored, render_pending cleared). */
  message?: RenderedMessage;
}

export interface AttemptRow {
  attempt: number;
  at: string;
  outcome: string;
  code: string | null;
  message: string | null;
}

/** SQL of notification's own tables. Every method takes the client so callers choose the transaction. */
export const NotificationStore = {
  async upsertFacts(db: Db, facts: OrderFacts): Promise<void> {
    await db.query(
      `INSERT INTO notification.order_facts (order_id, facts, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (order_id) DO UPDATE SET facts = notification.order_facts.facts || EXCLUDED.facts, updated_at = now()`,
      [facts.orderId, JSON.stringify(facts)],
    );
  },

  async patchFacts(db: Db, orderId: string, patch: Partial<OrderFacts>): Promise<void> {
    await db.query(`UPDATE notification.order_facts SET facts = facts || $2::jsonb, updated_at = now() WHERE order_id = $1`, [orderId, JSON.stringify(patch)]);
  },

  async facts(db: Db, orderId: string): Promise<OrderFacts | undefined> {
    const r = await db.query(`SELECT facts FROM notification.order_facts WHERE order_id = $1`, [orderId]);
    return (r.rows[0]?.facts as OrderFacts | undefined) ?? undefined;
  },

  /**
   * The facts written (upsert: the row created or merged; else a patch of an existing row) and
   * the order's facts afterwards, in ONE statement (undefined when the order has no facts yet).
   * `withCustomer`: the same statement also reads the contact and opt-outs of the customer the
   * facts name (for events a customer rule reacts to: issue #10, one statement instead of two).
   */
  async writeFacts(db: Db, orderId: string, w: { upsert?: OrderFacts; patch?: Partial<OrderFacts> }, withCustomer = false): Promise<FactsAndCustomer> {
    let source: string;
    let params: unknown[];
    if (w.upsert) {
      source = `INSERT INTO notification.order_facts (order_id, facts, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (order_id) DO UPDATE SET facts = notification.order_facts.facts || EXCLUDED.facts, updated_at = now() RETURNING facts`;
      params = [orderId, JSON.stringify({ ...w.upsert, ...(w.patch ?? {}) })];
    } else if (w.patch && Object.keys(w.patch).length > 0) {
      source = `UPDATE notification.order_facts SET facts = facts || $2::jsonb, updated_at = now() WHERE order_id = $1 RETURNING facts`;
      params = [orderId, JSON.stringify(w.patch)];
    } else {
      source = `SELECT facts FROM notification.order_facts WHERE order_id = $1`;
      params = [orderId];
    }
    // Keyed statements, prepared once per connection (namedStatement): planned per call they cost
    // more than they ran (issue #10: 0.15 ms of planning per event at 25 orders/s).
    if (!withCustomer) {
      const r = await db.query(namedStatement(source, params));
      return { facts: (r.rows[0]?.facts as OrderFacts | undefined) ?? undefined };
    }
    const r = await db.query(
      namedStatement(
        `WITH f AS (${source})
       SELECT f.facts, c.customer_id IS NOT NULL AS found, c.phone, c.email, c.wechat_openid, c.miniprogram_openid, c.locale,
         ARRAY(SELECT o.channel FROM notification.opt_out o WHERE o.customer_id = f.facts->>'customerId') AS opted_out
       FROM f LEFT JOIN notification.customer_contact c ON c.customer_id = f.facts->>'customerId'`,
        params,
      ),
    );
    const row = r.rows[0] as (ContactQueryRow & { facts: OrderFacts }) | undefined;
    if (!row) return { facts: undefined };
    const customerId = row.facts.customerId;
    return { facts: row.facts, ...(customerId ? { customer: { customerId, ...contactOf(customerId, row) } } : {}) };
  },

  /** A customer's contact (if any) and the channels they opted out of, in one statement. */
  async contactAndOptOuts(db: Db, customerId: string): Promise<CustomerContact> {
    const r = await db.query(
      `SELECT c.phone, c.email, c.wechat_openid, c.miniprogram_openid, c.locale, c.customer_id IS NOT NULL AS found,
         ARRAY(SELECT o.channel FROM notification.opt_out o WHERE o.customer_id = $1) AS opted_out
       FROM (SELECT 1) one LEFT JOIN notification.customer_contact c ON c.customer_id = $1`,
      [customerId],
    );
    return contactOf(customerId, r.rows[0] as ContactQueryRow);
  },

  /** Inserts the notifications whose dedup key is new, in ONE statement; returns the dedup keys inserted. */
  async insertMany(db: Db, ns: NewNotification[]): Promise<Set<string>> {
    if (ns.length === 0) return new Set();
    const cols = 25;
    const values: unknown[] = [];
    const rows = ns.map((n, i) => {
      values.push(n.notificationId, n.dedupKey, n.orderId, n.triggerEventId, n.triggerEventType, n.correlationId, n.ruleId, n.rulesVersion, n.template, n.templateVersion, n.locale,
        n.channel, n.recipientKind, n.recipientKey, n.recipientMasked, n.address, JSON.stringify(n.message), n.status, n.nextAttemptAt, n.heldUntil, n.lastCode, n.lastError, n.now, JSON.stringify(n.trigger), n.renderPending);
      const p = (k: number) => `$${i * cols + k}`;
      return `(${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 23, 24, 25].map(p).join(',')})`;
    });
    // Prepared per row count (an event's rules give a handful of notifications: a few texts).
    const r = await db.query(
      namedStatement(
        `INSERT INTO notification.notification (notification_id, dedup_key, order_id, trigger_event_id, trigger_event_type, correlation_id, rule_id, rules_version,
         template, template_version, locale, channel, recipient_kind, recipient_key, recipient_masked, address, message, status, next_attempt_at, held_until,
         last_code, last_error, created_at, updated_at, trigger, render_pending)
       VALUES ${rows.join(',\n')}
       ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key`,
        values,
      ),
    );
    return new Set(r.rows.map((x: { dedup_key: string }) => x.dedup_key));
  },

  async contact(db: Db, customerId: string): Promise<ContactRow | undefined> {
    const r = await db.query(`SELECT * FROM notification.customer_contact WHERE customer_id = $1`, [customerId]);
    const c = r.rows[0] as Record<string, string | null> | undefined;
    if (!c) return undefined;
    return { customerId, phone: c.phone, email: c.email, wechatOpenid: c.wechat_openid, miniprogramOpenid: c.miniprogram_openid, locale: c.locale ?? 'zh-CN' };
  },

  async putContact(db: Db, c: ContactRow): Promise<void> {
    await db.query(
      `INSERT INTO notification.customer_contact (customer_id, phone, email, wechat_openid, miniprogram_openid, locale, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (customer_id) DO UPDATE SET phone = EXCLUDED.phone, email = EXCLUDED.email, wechat_openid = EXCLUDED.wechat_openid,
         miniprogram_openid = EXCLUDED.miniprogram_openid, locale = EXCLUDED.locale, updated_at = now()`,
      [c.customerId, c.phone, c.email, c.wechatOpenid, c.miniprogramOpenid, c.locale],
    );
  },

  async customersByPhone(db: Db, phone: string): Promise<string[]> {
    const r = await db.query(`SELECT customer_id FROM notification.customer_contact WHERE phone = $1`, [phone]);
    return r.rows.map((x: { customer_id: string }) => x.customer_id);
  },

  async optOut(db: Db, customerId: string, channel: string, source: string, at: string): Promise<void> {
    await db.query(
      `INSERT INTO notification.opt_out (customer_id, channel, source, opted_out_at) VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, channel) DO NOTHING`,
      [customerId, channel, source, at],
    );
  },

  async optIn(db: Db, customerId: string, channel: string): Promise<void> {
    await db.query(`DELETE FROM notification.opt_out WHERE customer_id = $1 AND channel = $2`, [customerId, channel]);
  },

  async optOuts(db: Db, customerId: string): Promise<{ channel: string; source: string; optedOutAt: string }[]> {
    const r = await db.query(`SELECT channel, source, opted_out_at FROM notification.opt_out WHERE customer_id = $1 ORDER BY channel`, [customerId]);
    return r.rows.map((x: { channel: string; source: string; opted_out_at: Date }) => ({ channel: x.channel, source: x.source, optedOutAt: x.opted_out_at.toISOString() }));
  },

  async isOptedOut(db: Db, customerId: string, channel: string): Promise<boolean> {
    const r = await db.query(`SELECT 1 FROM notification.opt_out WHERE customer_id = $1 AND channel = $2`, [customerId, channel]);
    return (r.rowCount ?? 0) > 0;
  },

  /** Inserts unless the dedup key exists; true when this call created it. */
  async insert(db: Db, n: NewNotification): Promise<boolean> {
    const r = await db.query(
      `INSERT INTO notification.notification (notification_id, dedup_key, order_id, trigger_event_id, trigger_event_type, correlation_id, rule_id, rules_version,
         template, template_version, locale, channel, recipient_kind, recipient_key, recipient_masked, address, message, status, next_attempt_at, held_until,
         last_code, last_error, created_at, updated_at, trigger, render_pending)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$23,$24,$25)
       ON CONFLICT (dedup_key) DO NOTHING`,
      [n.notificationId, n.dedupKey, n.orderId, n.triggerEventId, n.triggerEventType, n.correlationId, n.ruleId, n.rulesVersion, n.template, n.templateVersion, n.locale,
        n.channel, n.recipientKind, n.recipientKey, n.recipientMasked, n.address, JSON.stringify(n.message), n.status, n.nextAttemptAt, n.heldUntil, n.lastCode, n.lastError, n.now, JSON.stringify(n.trigger), n.renderPending],
    );
    return (r.rowCount ?? 0) > 0;
  },

  /**
   * Leases up to `limit` due notifications to this caller (FOR UPDATE SKIP LOCKED: two instances
   * never take the same row) and counts the attempt. A lease whose holder died is taken again after
   * `leaseMs`.
   */
  /**
   * Leases up to `limit` due notifications. One range over notification_due_idx (its predicate is
   * the four open statuses) walked in next_attempt_at order: a plain index scan marks the entries of
   * rows that moved on (sent, delivered) dead as it passes them, so the next tick skips them even
   * before VACUUM. The OR of two conditions it replaces was planned as a bitmap scan, which never
   * marks entries: every tick re-read every row updated since the last vacuum (31 ms per tick after
   * ~3,000 notifications with autovacuum off, 0.3 ms now). A 'sending' row was due when it was leased
   * (next_attempt_at <= the lease time <= now), so the range keeps expired leases in.
   */
  async claimDue(db: Db, now: string, limit: number, leaseMs: number): Promise<NotificationRow[]> {
    // Every dispatcher tick: prepared once per connection. Planned per call it cost PostgreSQL 1.2 ms
    // of planning for ~2 ms of running (issue #10, pg_stat_statements). The batch size is part of
    // the text (one per dispatcher), so the generic plan PostgreSQL settles on knows the LIMIT is
    // small: an ordered walk of the due index, whatever the backlog.
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`claimDue: limit ${limit} is not a positive integer`);
    const r = await db.query(
      namedStatement(
        `UPDATE notification.notification n SET status = 'sending', attempts = n.attempts + 1, lease_until = $1::timestamptz + ($2 || ' milliseconds')::interval, updated_at = now()
       WHERE n.notification_id IN (
         SELECT notification_id FROM notification.notification
         WHERE status IN ('queued', 'held', 'retrying', 'sending') AND next_attempt_at <= $1 AND (status <> 'sending' OR lease_until < $1)
         ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
       RETURNING ${ROW_COLUMNS.map((c) => `n.${c}`).join(', ')}`,
        [now, String(leaseMs)],
      ),
    );
    return r.rows.map(toRow);
  },

  /** Gives a lease back without counting the attempt (rate limit reached before sending). */
  async defer(db: Db, id: string, until: string): Promise<void> {
    await db.query(`UPDATE notification.notification SET status = 'queued', attempts = attempts - 1, next_attempt_at = $2, lease_until = NULL, updated_at = now() WHERE notification_id = $1`, [id, until]);
  },

  /** A provider's delivery receipt for a sent message: delivered, or failed after all (code kept). */
  async applyReceipt(db: Db, id: string, r: { delivered: boolean; at: string; code: string | null; message: string | null }): Promise<NotificationRow | undefined> {
    const q = await db.query(
      `UPDATE notification.notification SET status = $2, delivered_at = CASE WHEN $2 = 'delivered' THEN $3::timestamptz ELSE delivered_at END,
         last_code = COALESCE($4, last_code), last_error = COALESCE($5, last_error), updated_at = now()
       WHERE notification_id = $1 AND status = 'sent' RETURNING *`,
      [id, r.delivered ? 'delivered' : 'failed', r.at, r.delivered ? null : r.code, r.delivered ? null : r.message],
    );
    return q.rows[0] ? toRow(q.rows[0]) : undefined;
  },

  /**
   * The outcomes of a dispatcher tick in ONE statement (issue #10: was an attempt insert and a
   * status update per notification): each attempt row (kept once: a retried record after a failed
   * transaction inserts nothing twice) and each notification's status, next attempt, provider id,
   * last code/error and, for a message rendered at send time, the rendered message.
   */
  async recordOutcomes(db: Db, outcomes: readonly RecordedOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    // Every tick that sent something: prepared once per connection (planned per call, 0.45 ms of
    // planning a tick; issue #10). Its plan does not depend on the values: the recordset's row
    // count is a fixed estimate either way.
    await db.query(
      namedStatement(
      `WITH o AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, attempt integer, at timestamptz, outcome text, status text, next_attempt_at timestamptz,
           provider_message_id text, attempt_code text, attempt_message text, code text, error text, message jsonb)
       ), attempt_rows AS (
         INSERT INTO notification.delivery_attempt (notification_id, attempt, at, outcome, code, message)
         SELECT id, attempt, at, outcome, attempt_code, attempt_message FROM o ON CONFLICT DO NOTHING
       )
       UPDATE notification.notification n SET status = o.status, lease_until = NULL, next_attempt_at = o.next_attempt_at,
         provider_message_id = COALESCE(o.provider_message_id, n.provider_message_id), last_code = COALESCE(o.code, n.last_code), last_error = COALESCE(o.error, n.last_error),
         sent_at = CASE WHEN o.status IN ('sent', 'delivered') THEN o.at ELSE n.sent_at END,
         delivered_at = CASE WHEN o.status = 'delivered' THEN o.at ELSE n.delivered_at END,
         message = COALESCE(o.message, n.message), render_pending = n.render_pending AND o.message IS NULL, updated_at = now()
       FROM o WHERE n.notification_id = o.id`,
      [
        JSON.stringify(
          outcomes.map((r) => ({
            id: r.notificationId,
            attempt: r.attempt,
            at: r.at,
            outcome: r.outcome,
            status: r.status,
            next_attempt_at: r.nextAttemptAt ?? null,
            provider_message_id: r.providerMessageId ?? null,
            attempt_code: r.attemptCode,
            attempt_message: r.attemptMessage,
            code: r.code ?? null,
            error: r.error ?? null,
            message: r.message ?? null,
          })),
        ),
      ],
      ),
    );
  },

  /**
   * `shops` (libs/auth shopFilter: undefined = every shop) keeps the notifications of orders whose
   * facts name one of those shops, in the query, so a page is full. An order without facts or
   * without a shop in them (facts written before OrderPlaced's shop was kept) is in no shop's list.
   */
  async list(db: Db, filter: { orderId?: string; channel?: string; status?: string; shops?: readonly string[]; limit: number; offset: number }): Promise<NotificationRow[]> {
    if (filter.shops?.length === 0) return [];
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.orderId) where.push(`order_id = $${params.push(filter.orderId)}`);
    if (filter.channel) where.push(`channel = $${params.push(filter.channel)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.shops) where.push(`order_id IN (SELECT f.order_id FROM notification.order_facts f WHERE f.facts->>'shopId' = ANY($${params.push([...filter.shops])}::text[]))`);
    const sql = `SELECT * FROM notification.notification ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, notification_id DESC LIMIT $${params.push(filter.limit)} OFFSET $${params.push(filter.offset)}`;
    return (await db.query(sql, params)).rows.map(toRow);
  },

  /** The shop of an order as its facts name it (OrderPlaced's shopId); null when notification does not know it. */
  async shopOfOrder(db: Db, orderId: string): Promise<string | null> {
    const r = await db.query(`SELECT facts->>'shopId' AS shop_id FROM notification.order_facts WHERE order_id = $1`, [orderId]);
    return (r.rows[0]?.shop_id as string | null | undefined) ?? null;
  },

  async get(db: Db, id: string): Promise<NotificationRow | undefined> {
    const r = await db.query(`SELECT * FROM notification.notification WHERE notification_id = $1`, [id]);
    return r.rows[0] ? toRow(r.rows[0]) : undefined;
  },

  async attempts(db: Db, id: string): Promise<AttemptRow[]> {
    const r = await db.query(`SELECT attempt, at, outcome, code, message FROM notification.delivery_attempt WHERE notification_id = $1 ORDER BY attempt`, [id]);
    return r.rows.map((x: { attempt: number; at: Date; outcome: string; code: string | null; message: string | null }) => ({ ...x, at: x.at.toISOString() }));
  },

  async drivenNow(db: Db): Promise<string | undefined> {
    const r = await db.query(`SELECT now + (clock_timestamp() - set_at) AS now FROM notification.driven_clock WHERE id = 1`);
    return r.rows[0] ? (r.rows[0].now as Date).toISOString() : undefined;
  },

  async setDrivenNow(db: Db, now: string): Promise<void> {
    await db.query(`INSERT INTO notification.driven_clock (id, now, set_at) VALUES (1, $1, clock_timestamp()) ON CONFLICT (id) DO UPDATE SET now = EXCLUDED.now, set_at = EXCLUDED.set_at`, [now]);
  },
};
