import type { Actor as EnvelopeActor } from '@flowline/contracts';
import { fold } from '@flowline/domain';
import { WrongExpectedVersion, type PostgresEventStore, type RecordedEvent, type SqlClient } from '@flowline/eventstore';
import { approvalDecider, streamIdOf, type ApprovalCommand, type ApprovalEvent, type ApprovalState, type OpenApproval } from '../domain/approval.decider';
import { ApprovalErrors } from '../domain/approval.errors';
import { timerKey, type TimerJob, type TimerScheduler } from './approval.ports';

export interface CommandMeta {
  correlationId: string;
  causationId: string | null;
  actor: EnvelopeActor;
  /** ISO time of the command (the decider's `now`). */
  now: string;
}

export interface Executed {
  state: ApprovalState;
  events: ApprovalEvent[];
  revision: number;
}

/**
 * Load -> decide -> append (expected revision) for one approval, inside the caller's transaction,
 * plus what must change with the events in that same transaction: the read rows (approvals,
 * approval_pending_steps) and the durable timers of the current step.
 */
export class ApprovalService {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly timers: TimerScheduler,
    private readonly newId: () => string,
  ) {}

  async load(approvalId: string): Promise<{ state: ApprovalState; revision: number }> {
    const recorded = await this.store.readStream(streamIdOf(approvalId));
    return { state: fold(approvalDecider, recorded.map(toDomain)), revision: recorded.length - 1 };
  }

  /**
   * Decides `command(state)` and appends the events. A concurrent writer that took the next
   * revision makes the append fail under its savepoint; the command is decided again on the new state.
   */
  async execute(client: SqlClient, approvalId: string, command: (state: ApprovalState) => ApprovalCommand | null, meta: CommandMeta): Promise<Executed> {
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.load(approvalId);
      const c = command(state);
      if (!c) return { state, events: [], revision };
      const events = approvalDecider.decide(c, state);
      if (events.length === 0) return { state, events, revision };
      try {
        const result = await this.store.appendToStreamWithin(
          client,
          streamIdOf(approvalId),
          events.map((e) => ({ eventId: this.newId(), type: e.type, data: e.data, metadata: { correlationId: meta.correlationId, causationId: meta.causationId, occurredAt: meta.now, actor: meta.actor } })),
          { expectedRevision: revision < 0 ? 'no_stream' : revision },
        );
        const after = fold(approvalDecider, events, state);
        await this.project(client, state, after, events, result.nextExpectedRevision, meta.now);
        return { state: after, events, revision: result.nextExpectedRevision };
      } catch (e) {
        if (e instanceof WrongExpectedVersion && attempt < 5) continue;
        throw e;
      }
    }
  }

  /** The approval or 404. */
  async get(approvalId: string): Promise<{ state: OpenApprovalOrDecided; revision: number }> {
    const { state, revision } = await this.load(approvalId);
    if (state.status === 'none') throw ApprovalErrors.notFound(approvalId);
    return { state, revision };
  }

  private async project(client: SqlClient, before: ApprovalState, after: ApprovalState, events: ApprovalEvent[], revision: number, now: string): Promise<void> {
    if (after.status === 'none') return;
    // The read row never holds a change's clear address / invoice (only the event store does).
    const row = after.change?.private ? { ...after, change: { ...after.change, private: undefined } } : after;
    await client.query(
      `INSERT INTO approvals (approval_id, order_id, kind, chain, status, revision, state, requested_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (approval_id) DO UPDATE SET status = EXCLUDED.status, revision = EXCLUDED.revision, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
      [after.approvalId, after.orderId, after.kind, after.chain, after.status, revision, JSON.stringify(row), after.requestedAt, now],
    );
    const current = after.status === 'pending' && after.current !== null ? after.steps[after.current] : null;
    if (current && current.status === 'active') {
      const principals = [...new Set([...current.slots.filter((s) => !s.vote).map((s) => s.principal), ...(current.escalatedTo ? [current.escalatedTo] : [])])];
      await client.query(
        `INSERT INTO approval_pending_steps (approval_id, order_id, chain, kind, step, attempt, principals, started_at, remind_at, due_at, escalated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (approval_id) DO UPDATE SET step = EXCLUDED.step, attempt = EXCLUDED.attempt, principals = EXCLUDED.principals, started_at = EXCLUDED.started_at,
           remind_at = EXCLUDED.remind_at, due_at = EXCLUDED.due_at, escalated = EXCLUDED.escalated`,
        [
          after.approvalId,
          after.orderId,
          after.chain,
          after.kind,
          current.step,
          current.attempt,
          principals,
          current.startedAt,
          new Date(Date.parse(current.startedAt ?? now) + current.remindAfterMs).toISOString(),
          current.dueAt,
          current.escalatedAt !== undefined,
        ],
      );
    } else {
      await client.query(`DELETE FROM approval_pending_steps WHERE approval_id = $1`, [after.approvalId]);
    }
    // Timers: each step start schedules its reminder and escalation, an escalation its expiry;
    // a step that stops being active (decided, returned, withdrawn) cancels all three.
    const jobs: TimerJob[] = [];
    for (const e of events) {
      if (e.type === 'ApprovalStepStarted') {
        const base = { approvalId: e.data.approvalId, step: e.data.step, attempt: e.data.attempt };
        jobs.push({ ...base, action: 'remind', runAt: e.data.remindAt }, { ...base, action: 'escalate', runAt: e.data.dueAt });
      }
      if (e.type === 'ApprovalStepEscalated') jobs.push({ approvalId: e.data.approvalId, step: e.data.step, attempt: e.data.attempt, action: 'expire', runAt: e.data.expireAt });
    }
    const wasActive = before.status === 'pending' && before.current !== null ? before.steps[before.current] : null;
    const stillActive = current && wasActive && current.step === wasActive.step && current.attempt === wasActive.attempt;
    if (wasActive && !stillActive) {
      await this.timers.cancel(
        client,
        (['remind', 'escalate', 'expire'] as const).map((action) => timerKey({ approvalId: before.status === 'none' ? '' : before.approvalId, step: wasActive.step, attempt: wasActive.attempt, action })),
      );
    }
    if (jobs.length) await this.timers.schedule(client, jobs);
  }
}

type OpenApprovalOrDecided = OpenApproval;

function toDomain(e: RecordedEvent): ApprovalEvent {
  return { type: e.type, data: e.data } as ApprovalEvent;
}
