import type { PostgresEventStore, StreamAppend } from '@flowline/eventstore';
import type { Pool } from 'pg';
import { decideAfterAttempt, type RetryPolicy, type SendOutcome } from '../domain/delivery.policy';
import type { ChannelKind } from '../domain/notification.types';
import { templateVars } from '../domain/template-vars';
import { renderMessage, TemplateError, type Locale, type RenderedMessage } from '../domain/templates';
import type { NotificationConfig } from '../infra/notification-config';
import type { ChannelAdapter } from '../infra/channels/channel.port';
import { NotificationStore, type NotificationRow, type RecordedOutcome } from '../infra/notification-store';
import type { Clock } from './clock';
import { notificationEvent, notificationStream, refOf } from './notification-events';

export interface RobotRateLimit {
  /** Messages a minute per robot (DingTalk allows 20). */
  perMinute: number;
}

export interface DispatcherDeps {
  pool: Pool;
  events: PostgresEventStore;
  adapters: Partial<Record<ChannelKind, ChannelAdapter>>;
  clock: Clock;
  retry: RetryPolicy;
  newId: () => string;
  batchSize?: number;
  leaseMs?: number;
  robotLimit?: RobotRateLimit;
  config: () => NotificationConfig;
  /** How long a message rendered at send time waits for its order's facts before rendering without them (default 60 s). */
  factsWaitMs?: number;
  log?: { warn(m: string): void };
  metrics?: { attempt(channel: string, outcome: string): void; sent(channel: string, seconds: number): void };
}

/**
 * Sends due notifications. Each tick leases a batch (SKIP LOCKED: another instance takes other
 * rows), sends each through its channel's adapter, and records the attempt and the outcome, plus
 * the published event when the outcome is final, in one transaction.
 */
export class Dispatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {}

  start(intervalMs: number): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((e: unknown) => this.deps.log?.warn(`dispatch tick failed: ${(e as Error).message}`));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), intervalMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One pass: returns how many notifications it handled. The batch is leased in one statement and
   * sent concurrently; each outcome (attempt row, status, NotificationSent / Failed event) is
   * recorded as soon as its send returns, together with every other send that returned meanwhile:
   * one transaction for the sends that answer together (issue #10: not one commit per send), and a
   * message a provider accepted is on record within a commit of its answer, not after the slowest
   * send of the batch (up to the adapter's timeout). A crash before that record resends only what
   * was in flight when it happened (README, Delivery guarantees), not the whole batch after the lease.
   */
  async tick(): Promise<number> {
    const now = await this.deps.clock.now();
    const due = await NotificationStore.claimDue(this.deps.pool, now, this.deps.batchSize ?? 20, this.deps.leaseMs ?? 60_000);
    const recorder = new CoalescingRecorder<Attempted>((batch) => this.recordBatch(batch));
    await Promise.all(
      due.map(async (n) => {
        const a = await this.deliver(n);
        if (a) recorder.add(a);
      }),
    );
    await recorder.drain();
    return due.length;
  }

  /**
   * Records outcomes in one transaction; should that fail, each in its own, so one bad row does not
   * leave the others' sends unrecorded (and resent after the lease). Throws the first failure.
   */
  private async recordBatch(attempted: readonly Attempted[]): Promise<void> {
    if (attempted.length > 1) {
      try {
        await this.record(attempted);
        return;
      } catch (e) {
        this.deps.log?.warn(`recording ${attempted.length} outcomes in one transaction failed, one by one now: ${(e as Error).message}`);
      }
    }
    const failures: unknown[] = [];
    for (const a of attempted) await this.record([a]).catch((e: unknown) => failures.push(e));
    if (failures.length) throw failures[0];
  }

  private async robotSlot(n: NotificationRow): Promise<string | undefined> {
    if (n.channel !== 'dingtalk' || !this.deps.robotLimit) return undefined;
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`flowline.notification.robot:${n.address}`]);
      const r = await client.query(`SELECT count(*)::int AS c, min(sent_at) AS oldest FROM notification.robot_send WHERE robot = $1 AND sent_at > now() - interval '60 seconds'`, [n.address]);
      const { c, oldest } = r.rows[0] as { c: number; oldest: Date | null };
      if (c >= this.deps.robotLimit.perMinute && oldest) {
        await client.query('COMMIT');
        return new Date(oldest.getTime() + 60_000 + 50).toISOString();
      }
      await client.query(`INSERT INTO notification.robot_send (robot, sent_at) VALUES ($1, now())`, [n.address]);
      await client.query(`DELETE FROM notification.robot_send WHERE robot = $1 AND sent_at < now() - interval '10 minutes'`, [n.address]);
      await client.query('COMMIT');
      return undefined;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Renders a message that waited for its order's facts; undefined = wait a bit longer. */
  private async renderLate(n: NotificationRow): Promise<RenderedMessage | TemplateError | undefined> {
    const facts = await NotificationStore.facts(this.deps.pool, n.orderId);
    const now = await this.deps.clock.now();
    if (!facts && Date.parse(now) - Date.parse(n.createdAt) < (this.deps.factsWaitMs ?? 60_000)) return undefined;
    if (!n.trigger) return new TemplateError('TEMPLATE_INVALID', 'no trigger stored to render from');
    try {
      const vars = templateVars(n.trigger, facts, n.recipientKind === 'staff' ? { approver: n.recipientMasked } : {});
      return renderMessage(this.deps.config().templates, n.template, n.channel, n.locale as Locale, vars);
    } catch (e) {
      if (e instanceof TemplateError) return e;
      throw e;
    }
  }

  /** Renders if needed and sends; undefined when the notification was given back (deferred) instead. */
  private async deliver(n: NotificationRow): Promise<Attempted | undefined> {
    const adapter = this.deps.adapters[n.channel];
    let outcome: SendOutcome | undefined;
    let rendered: RenderedMessage | undefined;
    if (n.renderPending) {
      const r = await this.renderLate(n);
      if (r === undefined) {
        await NotificationStore.defer(this.deps.pool, n.notificationId, new Date(Date.parse(await this.deps.clock.now()) + 1_000).toISOString());
        return undefined;
      }
      if (r instanceof TemplateError) outcome = { ok: false, transient: false, code: r.code, message: r.message };
      else {
        // Stored with the outcome (recordOutcomes), not in a statement of its own.
        rendered = r;
        n = { ...n, message: r, renderPending: false };
      }
    }
    if (outcome) {
      // Could not be rendered: fails below without reaching a provider.
    } else if (!adapter) {
      outcome = { ok: false, transient: false, code: 'CHANNEL_NOT_CONFIGURED', message: `no adapter for ${n.channel}` };
    } else {
      // Rate limits are real time (the provider counts in real minutes), not the driven clock.
      const deferUntil = await this.robotSlot(n);
      if (deferUntil) {
        await NotificationStore.defer(this.deps.pool, n.notificationId, deferUntil);
        return undefined;
      }
      const started = performance.now();
      try {
        outcome = await adapter.send({ notificationId: n.notificationId, channel: n.channel, address: n.address, locale: n.locale, message: n.message });
        this.deps.metrics?.sent(n.channel, (performance.now() - started) / 1000);
      } catch (e) {
        outcome = { ok: false, transient: true, code: 'ADAPTER_ERROR', message: (e as Error).message };
      }
    }
    const at = await this.deps.clock.now();
    const final = outcome ?? { ok: false, transient: false, code: 'NOT_SENT', message: 'no outcome' };
    return { n, outcome: final, at, decision: decideAfterAttempt(final, n.attempts, at, this.deps.retry), ...(rendered ? { rendered } : {}) };
  }

  /** Records attempts and their outcomes in one transaction; the final ones' events in one append. */
  private async record(attempted: readonly Attempted[]): Promise<void> {
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      const appends: StreamAppend[] = [];
      const outcomes: RecordedOutcome[] = [];
      for (const { n, outcome, at, decision, rendered } of attempted) {
        const base = { notificationId: n.notificationId, attempt: n.attempts, at, outcome: decision.status, attemptCode: outcome.ok ? null : outcome.code, attemptMessage: outcome.ok ? null : outcome.message, ...(rendered ? { message: rendered } : {}) };
        const meta = { eventId: this.deps.newId(), correlationId: n.correlationId, causationId: n.triggerEventId, at };
        const ref = refOf(n);
        // The notification's own stream, new here: no savepoint (issue #10).
        const streamId = notificationStream(n.notificationId);
        switch (decision.status) {
          case 'sent':
          case 'delivered':
            outcomes.push({ ...base, status: decision.status, providerMessageId: decision.providerMessageId ?? null });
            appends.push({ streamId, events: [notificationEvent('NotificationSent', { ...ref, attempts: n.attempts, ...(decision.providerMessageId ? { providerMessageId: decision.providerMessageId } : {}), delivered: decision.status === 'delivered', sentAt: at }, meta)], expectedRevision: 'no_stream' });
            break;
          case 'retry':
            outcomes.push({ ...base, status: 'retrying', nextAttemptAt: decision.nextAttemptAt, code: decision.code, error: decision.message });
            break;
          case 'failed':
          case 'dead':
            outcomes.push({ ...base, status: decision.status, code: decision.code, error: decision.message });
            appends.push({ streamId, events: [notificationEvent('NotificationFailed', { ...ref, attempts: n.attempts, code: decision.code, reason: decision.message, retried: decision.status === 'dead', failedAt: at }, meta)], expectedRevision: 'no_stream' });
            break;
        }
      }
      // Every attempt row and status in one statement (issue #10: was two per notification).
      await NotificationStore.recordOutcomes(client, outcomes);
      // Every notification's stream in one statement.
      if (appends.length) await this.deps.events.appendToStreamsWithin(client, appends);
      await client.query('COMMIT');
      for (const a of attempted) this.deps.metrics?.attempt(a.n.channel, a.decision.status);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}

/**
 * Writes items as they come, in batches: the first item starts a write (after the current I/O
 * callbacks, so items that arrive together go together); items added while a write runs go in the
 * next one. `drain` waits until everything added is written and throws the first failure.
 */
export class CoalescingRecorder<T> {
  private pending: T[] = [];
  private running: Promise<void> | null = null;
  private readonly failures: unknown[] = [];

  constructor(private readonly write: (batch: readonly T[]) => Promise<void>) {}

  add(item: T): void {
    this.pending.push(item);
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  async drain(): Promise<void> {
    while (this.running) await this.running;
    if (this.failures.length) throw this.failures[0];
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      await this.write(batch).catch((e: unknown) => this.failures.push(e));
    }
    this.running = null;
  }
}

/** A notification sent (or refused before a provider) whose outcome is still to be recorded. */
interface Attempted {
  n: NotificationRow;
  outcome: SendOutcome;
  at: string;
  decision: ReturnType<typeof decideAfterAttempt>;
  /** The message rendered at send time, stored with the outcome. */
  rendered?: RenderedMessage;
}
