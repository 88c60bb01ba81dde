import { requestHash, idempotencyKeyReused } from '@flowline/platform';
import type { PoolClient } from 'pg';
import type { Actor, ApprovalCommand, ApprovalState } from '../domain/approval.decider';
import { ApprovalErrors } from '../domain/approval.errors';
import { changePrivateOf, computeChange, freezeCheck, type ChangeRequestInput } from '../domain/change-request';
import { requestCommand } from './approval.requests';
import { DomainError } from '@flowline/domain';
import { shopVisible } from '@flowline/auth';

/** Who may raise an order change request. */
const CHANGE_REQUESTERS = ['customer_service', 'customer', 'general_manager'];
import type { ApprovalRuntime } from '../infra/approval-runtime';
import { approvalView, type ApprovalView } from './approval.view';
import type { ShopScope } from './approval.queries';

const changeOrderUnknown = (orderId: string) => new DomainError('CHANGE_ORDER_UNKNOWN', `order ${orderId} is not known to approval (yet)`, { orderId }, 'not_found');

/** How long a change request waits for the order watcher to know its order (see snapshotOf). */
const SNAPSHOT_WAIT_MS = 2_000;

export type Decision =
  | { kind: 'approve'; step: string; comment?: string; attachments?: { name: string; url: string }[] }
  | { kind: 'reject'; step: string; reason: string }
  | { kind: 'return'; step: string; comment: string; attachments?: { name: string; url: string }[] }
  | { kind: 'delegate'; step: string; to: string; reason?: string }
  | { kind: 'resubmit'; comment?: string };

function commandOf(d: Decision, actor: Actor, now: string): ApprovalCommand {
  switch (d.kind) {
    case 'approve':
      return { type: 'Approve', data: { step: d.step, actor, ...(d.comment ? { comment: d.comment } : {}), ...(d.attachments ? { attachments: d.attachments } : {}), now } };
    case 'reject':
      return { type: 'Reject', data: { step: d.step, actor, reason: d.reason, now } };
    case 'return':
      return { type: 'ReturnForChanges', data: { step: d.step, actor, comment: d.comment, ...(d.attachments ? { attachments: d.attachments } : {}), now } };
    case 'delegate':
      return { type: 'Delegate', data: { step: d.step, actor, to: d.to, ...(d.reason ? { reason: d.reason } : {}), now } };
    case 'resubmit':
      return { type: 'Resubmit', data: { actor, ...(d.comment ? { comment: d.comment } : {}), now } };
  }
}

/**
 * The people-facing commands (REST and gRPC share them): one decision on one approval, in one
 * transaction with its Idempotency-Key row, so a retried request replays the first reply.
 */
export class ApprovalCommands {
  constructor(private readonly runtime: ApprovalRuntime) {}

  async decide(approvalId: string, decision: Decision, actor: Actor, opts: { idempotencyKey?: string; correlationId?: string; shops?: ShopScope } = {}): Promise<ApprovalView> {
    // A shop-limited user decides the approvals of their shops' orders only: another is not found, as an unknown one.
    if (!(await this.runtime.queries.approvalInShops(approvalId, opts.shops))) throw ApprovalErrors.notFound(approvalId);
    const clientKey = opts.idempotencyKey ?? '';
    const key = clientKey ? `${decision.kind}:${approvalId}:${clientKey}` : null;
    const hash = requestHash({ approvalId, decision, actor });
    if (key) {
      const replay = await this.replay(key, hash, clientKey);
      if (replay) return replay;
    }
    const now = await this.runtime.clock.now();
    const correlationId = opts.correlationId ?? this.runtime.newId();
    try {
      return await this.runtime.transaction(async (client) => {
        const r = await this.runtime.service.execute(client, approvalId, (s: ApprovalState) => {
          if (s.status === 'none') throw ApprovalErrors.notFound(approvalId);
          return commandOf(decision, actor, now);
        }, { correlationId, causationId: null, actor: { kind: 'user', id: actor.id, role: actor.role }, now });
        const view = approvalView(r.state, r.revision);
        if (key) await this.remember(client, key, hash, view);
        return view;
      });
    } catch (e) {
      // A concurrent request with the same key committed first: reply as it did.
      if (key && (e as { code?: string }).code === '23505') {
        const replay = await this.replay(key, hash, clientKey);
        if (replay) return replay;
      }
      throw e;
    }
  }

  /**
   * The order as approval last saw it. A request right after the order was placed or became ready
   * can arrive before the order watcher (group-committed, up to ~0.3 s behind orders.events.v1)
   * stored it: wait up to SNAPSHOT_WAIT_MS for it before answering CHANGE_ORDER_UNKNOWN.
   */
  private async snapshotOf(orderId: string) {
    const until = Date.now() + SNAPSHOT_WAIT_MS;
    for (;;) {
      const order = await this.runtime.snapshots.get(orderId);
      if (order || Date.now() >= until) return order;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Raises an order change request: the diff from the order's current state, the freeze check
   * (a general manager's override is recorded as ApprovalFreezeOverridden), then the change chain.
   */
  async raiseChange(input: ChangeRequestInput & { orderId: string; override?: { reason: string } }, actor: Actor, opts: { idempotencyKey?: string; chain?: string; shops?: ShopScope } = {}): Promise<ApprovalView> {
    const clientKey = opts.idempotencyKey ?? '';
    const key = clientKey ? `change:${input.orderId}:${clientKey}` : null;
    const hash = requestHash({ input, actor });
    // Before the replay: a stored reply must not confirm another shop's order (nor a key reused across shops).
    if (!(await this.runtime.queries.orderInShops(input.orderId, opts.shops))) throw changeOrderUnknown(input.orderId);
    if (key) {
      const replay = await this.replay(key, hash, clientKey);
      if (replay) return replay;
    }
    if (!CHANGE_REQUESTERS.includes(actor.role)) {
      throw new DomainError('CHANGE_REQUESTER_NOT_ALLOWED', `a change request is raised by customer service, the customer or a general manager, not ${actor.role}`, { role: actor.role }, 'forbidden');
    }
    const order = await this.snapshotOf(input.orderId);
    // Another shop's order (for a shop-limited user; its snapshot may have arrived while we waited) is answered as an unknown one.
    if (!order || !shopVisible(opts.shops, order.shopId)) throw changeOrderUnknown(input.orderId);
    const diff = computeChange(order, input);
    const freezeOverride = freezeCheck(order, actor, input.override);
    const now = await this.runtime.clock.now();
    const approvalId = this.runtime.newId();
    const command = requestCommand(this.runtime.chains.current(), {
      approvalId,
      orderId: input.orderId,
      chain: opts.chain ?? 'order-change',
      kind: 'change',
      changeRequestId: approvalId,
      grandTotal: diff.totals.after.grandTotal,
      priceDifference: diff.priceDifference,
      currency: diff.totals.after.currency,
      requestedBy: actor.id,
      change: diff,
      changePrivate: changePrivateOf(input),
      channel: order.channel,
      ...(order.shopId ? { shopId: order.shopId } : {}),
      ...(freezeOverride ? { freezeOverride } : {}),
      now,
    });
    return this.runtime.transaction(async (client) => {
      const r = await this.runtime.service.execute(client, approvalId, () => command, { correlationId: approvalId, causationId: null, actor: { kind: 'user', id: actor.id, role: actor.role }, now });
      const view = approvalView(r.state, r.revision);
      if (key) await this.remember(client, key, hash, view);
      return view;
    });
  }

  private async replay(key: string, hash: string, clientKey: string): Promise<ApprovalView | null> {
    const { rows } = await this.runtime.pool.query<{ request_hash: string; body: ApprovalView }>(`SELECT request_hash, body FROM approval_idempotency WHERE key = $1`, [key]);
    if (!rows[0]) return null;
    if (rows[0].request_hash !== hash) throw idempotencyKeyReused(clientKey);
    return rows[0].body;
  }

  private async remember(client: PoolClient, key: string, hash: string, view: ApprovalView): Promise<void> {
    await client.query(`INSERT INTO approval_idempotency (key, request_hash, status, body) VALUES ($1, $2, 200, $3)`, [key, hash, JSON.stringify(view)]);
  }
}
