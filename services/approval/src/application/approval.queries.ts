import { shopVisible } from '@flowline/auth';
import type { Pool } from 'pg';
import type { OpenApproval } from '../domain/approval.decider';
import { rolePrincipal, userPrincipal, type Actor } from '../domain/approval.decider';

export type SlaColour = 'green' | 'yellow' | 'red';

/** The shops a caller may see (ADR 0018): undefined = every shop. */
export type ShopScope = readonly string[] | undefined;

/**
 * SQL: the pending row `p`'s order is in the shops parameter (NULL = every shop). An order whose
 * shop approval does not know (a snapshot taken before migration v2 recorded shops) is visible, as
 * every order was before: hiding it would strand its approvals for shop-limited approvers.
 */
const IN_SHOPS = (param: string) =>
  `(${param}::text[] IS NULL OR NOT EXISTS (SELECT 1 FROM order_snapshots s WHERE s.order_id = p.order_id AND s.shop_id IS NOT NULL AND NOT (s.shop_id = ANY(${param}::text[]))))`;

export interface PendingStepRow {
  approvalId: string;
  orderId: string;
  chain: string;
  kind: string;
  step: string;
  attempt: number;
  principals: string[];
  startedAt: string;
  remindAt: string;
  dueAt: string;
  escalated: boolean;
  /** green before the reminder time, yellow until the SLA, red after it. */
  sla: SlaColour;
  /** Why this actor sees it: the principal that matched (a delegate sees `user:<me>`). */
  via: string[];
}

/** An approval returned for changes, waiting for a resubmission. */
export interface ReturnedApprovalRow {
  approvalId: string;
  orderId: string;
  chain: string;
  kind: string;
  /** The step that returned it (it decides again once resubmitted). */
  step: string;
  returnedBy: string | null;
  returnedAt: string | null;
  /** What must change (the returning approver's comment). */
  comment: string | null;
  /** Who raised it (a change request's requester; none for an order's own approval). */
  requestedBy: string | null;
  requestedAt: string;
}

export function slaColour(now: number, remindAt: string, dueAt: string): SlaColour {
  if (now >= Date.parse(dueAt)) return 'red';
  if (now >= Date.parse(remindAt)) return 'yellow';
  return 'green';
}

/** Read side over the tables ApprovalService writes. */
export class ApprovalQueries {
  constructor(private readonly pool: Pool) {}

  /**
   * Steps the actor may decide now (by role, by name, delegated to them or escalated to them), oldest first.
   * `shops` (a shop-limited user's scope; undefined = every shop) is part of the query.
   */
  async inbox(actor: Actor, now: number, limit = 200, shops?: ShopScope): Promise<PendingStepRow[]> {
    return this.pendingSteps([userPrincipal(actor.id), rolePrincipal(actor.role)], now, limit, shops, true);
  }

  /**
   * Every step waiting for a decision (for `role` only when given), oldest first, whoever it waits
   * for: a supervisor's overview of where approvals stand. `via` is empty (nobody's inbox is meant).
   */
  async pending(role: string | null, now: number, limit = 200, shops?: ShopScope): Promise<PendingStepRow[]> {
    return this.pendingSteps(role === null ? null : [rolePrincipal(role)], now, limit, shops, false);
  }

  /** Pending steps whose principals overlap `principals` (all when null), oldest first. */
  private async pendingSteps(principals: string[] | null, now: number, limit: number, shops: ShopScope, mark: boolean): Promise<PendingStepRow[]> {
    const mine = principals ?? [];
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT approval_id, order_id, chain, kind, step, attempt, principals, started_at, remind_at, due_at, escalated
         FROM approval_pending_steps p WHERE ($1::text[] IS NULL OR principals && $1::text[]) AND ${IN_SHOPS('$3')} ORDER BY started_at, approval_id LIMIT $2`,
      [principals, limit, shops ?? null],
    );
    return rows.map((r) => {
      const principals = r.principals as string[];
      const remindAt = (r.remind_at as Date).toISOString();
      const dueAt = (r.due_at as Date).toISOString();
      return {
        approvalId: r.approval_id as string,
        orderId: r.order_id as string,
        chain: r.chain as string,
        kind: r.kind as string,
        step: r.step as string,
        attempt: r.attempt as number,
        principals,
        startedAt: (r.started_at as Date).toISOString(),
        remindAt,
        dueAt,
        escalated: r.escalated as boolean,
        sla: slaColour(now, remindAt, dueAt),
        via: mark ? principals.filter((p) => mine.includes(p)) : [],
      };
    });
  }

  /**
   * Approvals returned for changes (退回修改) and waiting for a resubmission, in `shops`, the
   * longest waiting first: nobody's inbox holds them (the returning step is not active), so the
   * people who may resubmit (`create Approval`) find them here. `step` is the step that returned
   * it and decides again after the resubmission.
   */
  async returned(limit = 200, shops?: ShopScope): Promise<ReturnedApprovalRow[]> {
    const { rows } = await this.pool.query<{ state: OpenApproval }>(
      `SELECT state FROM approvals p WHERE status = 'returned' AND ${IN_SHOPS('$2')} ORDER BY updated_at, approval_id LIMIT $1`,
      [limit, shops ?? null],
    );
    return rows.flatMap(({ state: s }) => {
      const step = s.current === null ? undefined : s.steps[s.current];
      if (!step) return [];
      return [{
        approvalId: s.approvalId,
        orderId: s.orderId,
        chain: s.chain,
        kind: s.kind,
        step: step.step,
        returnedBy: step.decidedBy ?? null,
        returnedAt: step.decidedAt ?? null,
        comment: step.comment ?? null,
        requestedBy: s.requestedBy ?? null,
        requestedAt: s.requestedAt,
      }];
    });
  }

  /** Approval ids whose current step waits for `role` (every pending one when null) in `shops`, oldest first. */
  async pendingByRole(role: string | null, limit: number, shops?: ShopScope): Promise<string[]> {
    return (await this.pending(role, Date.now(), limit, shops)).map((r) => r.approvalId);
  }

  /**
   * Is the order in `shops`? Every order is when `shops` is undefined. An order approval has not
   * seen passes (the caller answers its own not-found), and so does one whose shop approval does
   * not know (see IN_SHOPS).
   */
  async orderInShops(orderId: string, shops: ShopScope): Promise<boolean> {
    if (!shops) return true;
    const { rows } = await this.pool.query<{ shop_id: string | null }>(`SELECT shop_id FROM order_snapshots WHERE order_id = $1`, [orderId]);
    return shopVisible(shops, rows[0]?.shop_id);
  }

  /**
   * Is the approval's order in `shops`? An approval that does not exist passes (the command answers
   * its own APPROVAL_NOT_FOUND, the same as for one out of scope), as does one whose order's shop
   * approval does not know (see IN_SHOPS).
   */
  async approvalInShops(approvalId: string, shops: ShopScope): Promise<boolean> {
    if (!shops) return true;
    const { rows } = await this.pool.query<{ shop_id: string | null }>(
      `SELECT s.shop_id FROM approvals a LEFT JOIN order_snapshots s ON s.order_id = a.order_id WHERE a.approval_id = $1`,
      [approvalId],
    );
    return shopVisible(shops, rows[0]?.shop_id);
  }

  async byOrder(orderId: string): Promise<OpenApproval[]> {
    const { rows } = await this.pool.query<{ state: OpenApproval }>(`SELECT state FROM approvals WHERE order_id = $1 ORDER BY requested_at, approval_id`, [orderId]);
    return rows.map((r) => r.state);
  }

  /** Open approvals of an order (pending or returned), for withdrawal. */
  async openOf(orderId: string, client: { query: Pool['query'] } = this.pool): Promise<string[]> {
    const { rows } = await client.query<{ approval_id: string }>(`SELECT approval_id FROM approvals WHERE order_id = $1 AND status IN ('pending', 'returned')`, [orderId]);
    return rows.map((r) => r.approval_id);
  }
}
