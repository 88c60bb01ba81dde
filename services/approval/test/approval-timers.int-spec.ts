import { resolve } from 'node:path';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { grpcClient, unary } from '@flowline/platform';
import { kafkaBrokers, personaHeader, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Metadata } from '@grpc/grpc-js';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, eventually, type Body } from './support/cluster';

/*
 * Two approval processes on ONE database (two replicas), commands sent on approval.commands.v1 as
 * order-intake would. The `quick` chain (test/fixtures/test.chains.yaml) reminds after 3 s and is
 * overdue after 6 s: the step is reminded, then escalated, with no new event arriving, and every
 * graphile-worker timer runs exactly once across both instances (approval_timer_runs).
 */

const cluster = new Cluster(testTopicPrefix());
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: `approval-timers-${uniqueSuffix()}` });
const publisher = new EventPublisher({ kafka, topicPrefix: cluster.prefix });
let pool: Pool;
let dbUrl: string;
const A = () => cluster.procs['approval-a'].httpUrl;
const B = () => cluster.procs['approval-b'].httpUrl;
/** gRPC metadata carrying a named person's own token. */
async function md(id: string, role: string): Promise<Metadata> {
  const m = new Metadata();
  m.set('authorization', (await personaHeader(id, role)).authorization);
  return m;
}
/** A named person's own token (issue #16: the actor comes from the token). */
const as = (id: string, role: string) => personaHeader(id, role);

async function requestApproval(chain: string, grandTotal = 1_288_000): Promise<string> {
  const orderId = `o-${uniqueSuffix()}`;
  const eventId = `cmd-${uniqueSuffix()}`;
  const envelope: EventEnvelope = {
    eventId,
    type: 'RequestApproval',
    schemaVersion: 1,
    streamId: `process-${orderId}`,
    streamPosition: 0,
    occurredAt: new Date().toISOString(),
    correlationId: `corr-${orderId}`,
    causationId: null,
    actor: { kind: 'service', id: 'order-intake', role: 'system' },
    data: { orderId, chain, ruleId: 'approval-large-or-custom', ruleSetVersion: 'test', grandTotal, currency: 'CNY' },
  };
  await publisher.publish([{ topic: Topics.approvalCommands, key: orderId, envelope }]);
  return orderId;
}

async function approvalOf(orderId: string, until: (a: Body) => boolean, what: string, timeoutMs = 60_000): Promise<Body> {
  return eventually(what, async () => {
    const r = await call(A(), 'GET', `/api/approvals?orderId=${orderId}`);
    const a = r.json?.items?.[0] as Body | undefined;
    return a && until(a) ? a : undefined;
  }, timeoutMs);
}

async function streamTypes(approvalId: string): Promise<string[]> {
  const { rows } = await pool.query<{ event_type: string }>(`SELECT event_type FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_position`, [`approval-${approvalId}`]);
  return rows.map((r) => r.event_type);
}

beforeAll(async () => {
  const db = await cluster.database('approval_timers');
  dbUrl = db.url;
  pool = new Pool({ connectionString: db.url, max: 2 });
  const env = { APPROVAL_CHAINS_PATH: resolve(__dirname, 'fixtures/test.chains.yaml'), APPROVAL_TIMER_POLL: '300ms' };
  // One after the other: the first creates the schemas, the second finds them.
  await cluster.start('approval-a', 'approval', { ...env, APPROVAL_INSTANCE_ID: 'approval-a' }, db);
  await cluster.start('approval-b', 'approval', { ...env, APPROVAL_INSTANCE_ID: 'approval-b' }, db);
  await publisher.connect();
  // Tokens up front (cached until expiry): the reminder test must decide within its 3 s window.
  await Promise.all([as('u-gm', 'general_manager'), as('u-board-1', 'board')]);
}, 240_000);

afterAll(async () => {
  await publisher.disconnect().catch(() => undefined);
  await pool?.end();
  await cluster.stop();
}, 120_000);

describe('durable approval timers with two instances', () => {
  it('an overdue step is reminded, then escalated, with no new event; each timer runs once; a decided step cancels its timers', async () => {
    const orders = await Promise.all([requestApproval('quick'), requestApproval('quick'), requestApproval('quick')]);
    const decidedEarly = await requestApproval('quick');
    const early = await approvalOf(decidedEarly, (a) => a.currentStep === 'gm_approval', 'early approval started');
    const approved = await call(B(), 'POST', `/api/approvals/${early.approvalId}/steps/gm_approval/approve`, {}, await as('u-gm', 'general_manager'));
    expect(approved.json).toMatchObject({ status: 'granted' });

    const escalated = await Promise.all(orders.map((o) => approvalOf(o, (a) => a.steps[0].escalatedAt !== null, `escalation of ${o}`)));
    for (const a of escalated) {
      const step = a.steps[0];
      expect(Date.parse(step.remindedAt) - Date.parse(step.startedAt)).toBeGreaterThanOrEqual(3_000);
      expect(Date.parse(step.escalatedAt) - Date.parse(step.startedAt)).toBeGreaterThanOrEqual(6_000);
      expect(step.escalatedTo).toBe('role:board');
      expect(await streamTypes(a.approvalId)).toEqual(['ApprovalRequested', 'ApprovalStepStarted', 'ApprovalStepReminded', 'ApprovalStepEscalated']);
    }
    // The board sees the escalated steps in its inbox, red (past the SLA).
    const board = await call(A(), 'GET', '/api/approvals/inbox', undefined, await as('u-board-1', 'board'));
    for (const a of escalated) expect(board.json.items.find((i: { approvalId: string }) => i.approvalId === a.approvalId)).toMatchObject({ sla: 'red', escalated: true, via: ['role:board'] });

    // Each remind and escalate job ran exactly once, on one of the two instances.
    const { rows } = await pool.query<{ job_key: string; runs: number; instances: string[]; outcomes: string[] }>(
      `SELECT job_key, count(*)::int AS runs, array_agg(instance) AS instances, array_agg(outcome) AS outcomes FROM approval_timer_runs GROUP BY job_key`,
    );
    const byKey = new Map(rows.map((r) => [r.job_key, r]));
    for (const a of escalated) {
      expect(byKey.get(`${a.approvalId}:gm_approval:1:remind`)).toMatchObject({ runs: 1, outcomes: ['ApprovalStepReminded'] });
      expect(byKey.get(`${a.approvalId}:gm_approval:1:escalate`)).toMatchObject({ runs: 1, outcomes: ['ApprovalStepEscalated'] });
    }
    console.log(`timer runs by instance: ${JSON.stringify(rows.flatMap((r) => r.instances).reduce<Record<string, number>>((m, i) => ({ ...m, [i]: (m[i] ?? 0) + 1 }), {}))}`);
    // The step approved before its reminder: its timers were removed with the approval, none ran.
    expect([...byKey.keys()].filter((k) => k.startsWith(early.approvalId))).toEqual([]);
    const { rows: left } = await pool.query(`SELECT key FROM graphile_worker._private_jobs WHERE key LIKE $1`, [`${early.approvalId}:%`]);
    expect(left).toEqual([]);

    // The escalation target decides; the pending expiry timer is cancelled with it.
    for (const a of escalated) {
      const r = await call(B(), 'POST', `/api/approvals/${a.approvalId}/steps/gm_approval/approve`, {}, await as('u-board-1', 'board'));
      expect(r.json).toMatchObject({ status: 'granted' });
    }
    const { rows: expiries } = await pool.query(`SELECT key FROM graphile_worker._private_jobs WHERE key LIKE '%:expire'`);
    expect(expiries).toEqual([]);
  }, 120_000);

  it('"all of" quorum: both named designers must approve; each inbox shows only what its owner still has to decide', async () => {
    const orderId = await requestApproval('board-review');
    const a = await approvalOf(orderId, (x) => x.currentStep === 'board', 'board review started');
    const inboxOf = async (id: string) => (await call(A(), 'GET', '/api/approvals/inbox', undefined, await as(id, 'designer'))).json.items.map((i: { approvalId: string }) => i.approvalId);
    expect(await inboxOf('u-d1')).toContain(a.approvalId);
    expect(await inboxOf('u-d2')).toContain(a.approvalId);
    const first = await call(A(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, { comment: '同意' }, await as('u-d1', 'designer'));
    expect(first.json).toMatchObject({ status: 'pending', currentStep: 'board' });
    expect(first.json.steps[0].slots).toMatchObject([{ principal: 'user:u-d1', approvedBy: 'u-d1' }, { principal: 'user:u-d2', approvedBy: null }]);
    expect(await inboxOf('u-d1')).not.toContain(a.approvalId);
    const again = await call(B(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, {}, await as('u-d1', 'designer'));
    expect(again.json).toMatchObject({ code: 'APPROVAL_ALREADY_VOTED' });
    const second = await call(B(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, {}, await as('u-d2', 'designer'));
    expect(second.json).toMatchObject({ status: 'granted' });
    expect(await streamTypes(a.approvalId)).toEqual(['ApprovalRequested', 'ApprovalStepStarted', 'ApprovalVoteRecorded', 'ApprovalStepApproved', 'ApprovalGranted']);
  }, 60_000);

  it('delegation: to a named person, and by an out-of-office rule; the delegate decides, the original approver no longer can', async () => {
    const orderId = await requestApproval('board-review');
    const a = await approvalOf(orderId, (x) => x.currentStep === 'board', 'board review started');
    const delegated = await call(A(), 'POST', `/api/approvals/${a.approvalId}/steps/board/delegate`, { to: 'u-d3', reason: '出差' }, await as('u-d2', 'designer'));
    expect(delegated.status, JSON.stringify(delegated.json)).toBe(200);
    const inbox = await call(A(), 'GET', '/api/approvals/inbox', undefined, await as('u-d3', 'designer'));
    expect(inbox.json.items.find((i: { approvalId: string }) => i.approvalId === a.approvalId)).toMatchObject({ via: ['user:u-d3'] });
    expect((await call(A(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, {}, await as('u-d2', 'designer'))).json).toMatchObject({ code: 'APPROVAL_NOT_AN_APPROVER' });
    await call(A(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, {}, await as('u-d1', 'designer'));
    expect((await call(A(), 'POST', `/api/approvals/${a.approvalId}/steps/board/approve`, {}, await as('u-d3', 'designer'))).json).toMatchObject({ status: 'granted' });

    const away = await requestApproval('ooo-check');
    const b = await approvalOf(away, (x) => x.currentStep === 'review', 'ooo review started');
    expect(b.steps[0].slots).toEqual([{ original: 'user:u-away', principal: 'user:u-backup', approvedBy: null, approvedAt: null }]);
    expect((await call(A(), 'POST', `/api/approvals/${b.approvalId}/steps/review/approve`, {}, await as('u-backup', 'designer'))).json).toMatchObject({ status: 'granted' });
  }, 60_000);

  it('gRPC: pending approvals by role, Approve with the approver token, a refusal as FAILED_PRECONDITION with the domain code', async () => {
    const orderId = await requestApproval('quick');
    const a = await approvalOf(orderId, (x) => x.currentStep === 'gm_approval', 'quick approval started');
    const client = grpcClient(cluster.procs['approval-b'].grpcAddress, 'approval/v1/approval.proto', 'flowline.approval.v1.ApprovalService');
    try {
      const pending = await unary<{ approvals: { approvalId: string; currentStep: string; status: string }[] }>(client, 'ListPendingApprovals', { role: 'general_manager' });
      expect(pending.approvals.find((x) => x.approvalId === a.approvalId)).toMatchObject({ currentStep: 'gm_approval', status: 'APPROVAL_STATUS_PENDING' });
      const meta = (id: string, role: string) => ({ requestId: `r-${uniqueSuffix()}`, correlationId: '', actor: { kind: 'user', id, role } });
      const refused = await unary(client, 'Approve', { meta: meta('u-sales', 'sales'), approvalId: a.approvalId, step: 'gm_approval' }, 5_000, await md('u-sales', 'sales')).catch((e: { code: number; metadata: { get(k: string): unknown[] } }) => e);
      expect((refused as { code: number }).code).toBe(7);
      expect((refused as { metadata: { get(k: string): unknown[] } }).metadata.get('x-domain-code')).toEqual(['APPROVAL_NOT_AN_APPROVER']);
      const ok = await unary<{ approval: { status: string; steps: { decidedBy: string; status: string }[] } }>(client, 'Approve', { meta: meta('u-gm', 'general_manager'), approvalId: a.approvalId, step: 'gm_approval', comment: '同意' }, 5_000, await md('u-gm', 'general_manager'));
      expect(ok.approval).toMatchObject({ status: 'APPROVAL_STATUS_GRANTED', steps: [{ decidedBy: 'u-gm', status: 'STEP_STATUS_APPROVED' }] });

      // The rest of the inbox over gRPC: my steps, delegate, return, resubmit, bulk approve.
      const [o1, o2] = await Promise.all([requestApproval('board-review'), requestApproval('board-review')]);
      const b1 = await approvalOf(o1, (x) => x.currentStep === 'board', 'board 1');
      const b2 = await approvalOf(o2, (x) => x.currentStep === 'board', 'board 2');
      const mine = await unary<{ steps: { approvalId: string; via: string[]; slaColour: string }[] }>(client, 'ListMyPendingSteps', { meta: meta('u-d1', 'designer') }, 5_000, await md('u-d1', 'designer'));
      expect(mine.steps.find((x) => x.approvalId === b1.approvalId)).toMatchObject({ via: ['user:u-d1'], slaColour: 'green' });
      const delegated = await unary<{ approval: { approvalId: string } }>(client, 'Delegate', { meta: meta('u-d2', 'designer'), approvalId: b1.approvalId, step: 'board', to: 'u-d3', reason: '出差' }, 5_000, await md('u-d2', 'designer'));
      expect(delegated.approval.approvalId).toBe(b1.approvalId);
      const returned = await unary<{ approval: { status: string; steps: { status: string }[] } }>(client, 'ReturnForChanges', { meta: meta('u-d3', 'designer'), approvalId: b1.approvalId, step: 'board', comment: '缺少效果图' }, 5_000, await md('u-d3', 'designer'));
      expect(returned.approval).toMatchObject({ status: 'APPROVAL_STATUS_RETURNED', steps: [{ status: 'STEP_STATUS_RETURNED' }] });
      const resubmitted = await unary<{ approval: { status: string; steps: { status: string }[] } }>(client, 'Resubmit', { meta: meta('u-sales', 'sales'), approvalId: b1.approvalId, comment: '已补充' }, 5_000, await md('u-sales', 'sales'));
      expect(resubmitted.approval).toMatchObject({ status: 'APPROVAL_STATUS_PENDING', steps: [{ status: 'STEP_STATUS_ACTIVE' }] });
      const bulk = await unary<{ results: { approvalId: string; ok: boolean; code: string }[] }>(client, 'BulkApprove', {
        meta: meta('u-d1', 'designer'),
        items: [{ approvalId: b1.approvalId, step: 'board' }, { approvalId: b2.approvalId, step: 'board' }, { approvalId: b2.approvalId, step: 'nope' }],
      }, 5_000, await md('u-d1', 'designer'));
      expect(bulk.results.map((r) => [r.approvalId, r.ok, r.code])).toEqual([[b1.approvalId, true, ''], [b2.approvalId, true, ''], [b2.approvalId, false, 'APPROVAL_NOT_CURRENT_STEP']]);
      const got = await unary<{ approval: { status: string } }>(client, 'GetApproval', { approvalId: b2.approvalId });
      expect(got.approval.status).toBe('APPROVAL_STATUS_PENDING');
    } finally {
      client.close();
    }
  }, 60_000);

  it('timers survive restarts: both instances stop before the reminder is due, a new one starts later and runs it, then the escalation', async () => {
    const orderId = await requestApproval('quick-restart');
    const a = await approvalOf(orderId, (x) => x.currentStep === 'gm_approval', 'quick approval started');
    const env = { APPROVAL_CHAINS_PATH: resolve(__dirname, 'fixtures/test.chains.yaml'), APPROVAL_TIMER_POLL: '300ms', APPROVAL_INSTANCE_ID: 'approval-c' };
    await Promise.all([cluster.procs['approval-a'].stop(), cluster.procs['approval-b'].stop()]);
    const down = Date.now();
    // Nothing runs while no instance is up; the jobs wait in the table.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(a.steps[0].startedAt) + 8_500 - Date.now())));
    expect((await pool.query(`SELECT 1 FROM approval_timer_runs WHERE job_key LIKE $1`, [`${a.approvalId}:%`])).rowCount).toBe(0);
    await cluster.start('approval-c', 'approval', env, { url: dbUrl });
    const escalated = await eventually('escalation after the restart', async () => {
      const r = await call(cluster.procs['approval-c'].httpUrl, 'GET', `/api/approvals/${a.approvalId}`);
      return r.json?.steps?.[0]?.escalatedAt ? r.json : undefined;
    }, 60_000);
    const rows = await eventually('both timers ran', async () => {
      const r = await pool.query<{ job_key: string; instance: string; outcome: string }>(`SELECT job_key, instance, outcome FROM approval_timer_runs WHERE job_key LIKE $1 ORDER BY job_key`, [`${a.approvalId}:%`]);
      return r.rows.length >= 2 ? r.rows : undefined;
    }, 30_000);
    expect(rows.map((r) => [r.job_key, r.instance])).toEqual([
      [`${a.approvalId}:gm_approval:1:escalate`, 'approval-c'],
      [`${a.approvalId}:gm_approval:1:remind`, 'approval-c'],
    ]);
    // Both were overdue when the instance came back (a slow restart may take past the SLA too): the
    // reminder is recorded unless the escalation ran first, which makes a late reminder pointless.
    const remind = rows.find((r) => r.job_key.endsWith(':remind'));
    if (remind?.outcome === 'ApprovalStepReminded') expect(escalated.steps[0].remindedAt).toEqual(expect.any(String));
    else expect(remind?.outcome).toBe('nothing due');
    expect(Date.now() - down).toBeGreaterThan(3_000);
  }, 120_000);
});
