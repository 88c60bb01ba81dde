import { resolve } from 'node:path';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, eventually, type Body } from './support/cluster';

/*
 * The driven clock (APPROVAL_DRIVEN_CLOCK=on): two approval processes on one database, a chain with
 * real-size SLAs (remind after 6 h, overdue after 8 h, expired 8 h after the escalation). The test
 * moves time forward through one instance's /api/test/clock/advance; nothing else happens in
 * between: the reminder, then the escalation, then the expiry fire, each exactly once across the
 * two instances, and nothing fires before its (driven) time.
 */

const HOUR = 3_600_000;
const cluster = new Cluster(testTopicPrefix());
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: `approval-clock-${uniqueSuffix()}` });
const publisher = new EventPublisher({ kafka, topicPrefix: cluster.prefix });
let pool: Pool;
const A = () => cluster.procs['clock-a'].httpUrl;
const B = () => cluster.procs['clock-b'].httpUrl;

async function requestApproval(chain: string): Promise<string> {
  const orderId = `o-${uniqueSuffix()}`;
  const envelope: EventEnvelope = {
    eventId: `cmd-${uniqueSuffix()}`,
    type: 'RequestApproval',
    schemaVersion: 1,
    streamId: `process-${orderId}`,
    streamPosition: 0,
    occurredAt: new Date().toISOString(),
    correlationId: `corr-${orderId}`,
    causationId: null,
    actor: { kind: 'service', id: 'order-intake', role: 'system' },
    data: { orderId, chain, ruleId: 'approval-large-or-custom', ruleSetVersion: 'test', grandTotal: 1_288_000, currency: 'CNY' },
  };
  await publisher.publish([{ topic: Topics.approvalCommands, key: orderId, envelope }]);
  return orderId;
}

async function approvalOf(orderId: string, until: (a: Body) => boolean, what: string): Promise<Body> {
  return eventually(what, async () => {
    const r = await call(B(), 'GET', `/api/approvals?orderId=${orderId}`);
    const a = r.json?.items?.[0] as Body | undefined;
    return a && until(a) ? a : undefined;
  }, 60_000);
}

async function timerRuns(approvalId: string): Promise<{ job_key: string; instance: string; outcome: string }[]> {
  const { rows } = await pool.query<{ job_key: string; instance: string; outcome: string }>(`SELECT job_key, instance, outcome FROM approval_timer_runs WHERE job_key LIKE $1 ORDER BY ran_at`, [`${approvalId}:%`]);
  return rows;
}

async function advance(ms: number): Promise<Body> {
  const r = await call(A(), 'POST', '/api/test/clock/advance', { ms });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

beforeAll(async () => {
  const db = await cluster.database('approval_clock');
  pool = new Pool({ connectionString: db.url, max: 2 });
  const env = { APPROVAL_CHAINS_PATH: resolve(__dirname, 'fixtures/test.chains.yaml'), APPROVAL_TIMER_POLL: '300ms', APPROVAL_DRIVEN_CLOCK: 'on' };
  await cluster.start('clock-a', 'approval', { ...env, APPROVAL_INSTANCE_ID: 'clock-a' }, db);
  await cluster.start('clock-b', 'approval', { ...env, APPROVAL_INSTANCE_ID: 'clock-b' }, db);
  await publisher.connect();
}, 240_000);

afterAll(async () => {
  await publisher.disconnect().catch(() => undefined);
  await pool?.end();
  await cluster.stop();
}, 120_000);

describe('driven clock: reminder, escalation, expiry on an 8 h SLA without waiting', () => {
  it('each timer fires once, at its driven time, across two instances; the expiry rejects the request', async () => {
    const orderId = await requestApproval('driven');
    const started = await approvalOf(orderId, (a) => a.currentStep === 'gm_approval', 'approval started');
    const id = started.approvalId as string;
    const startedAt = Date.parse(started.steps[0].startedAt);

    // 5 h in: nothing is due yet.
    await advance(5 * HOUR);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await timerRuns(id)).toEqual([]);

    // 6 h: the reminder (on one instance), not the escalation.
    const at6 = await advance(1 * HOUR + 60_000);
    expect(at6.due).toEqual([`${id}:gm_approval:1:remind`]);
    const reminded = await approvalOf(orderId, (a) => a.steps[0].remindedAt !== null, 'reminded');
    expect(Date.parse(reminded.steps[0].remindedAt) - startedAt).toBeGreaterThanOrEqual(6 * HOUR);
    expect(reminded.steps[0].escalatedAt).toBeNull();

    // 8 h: escalated to the board.
    await advance(2 * HOUR);
    const escalated = await approvalOf(orderId, (a) => a.steps[0].escalatedAt !== null, 'escalated');
    expect(Date.parse(escalated.steps[0].escalatedAt) - startedAt).toBeGreaterThanOrEqual(8 * HOUR);
    expect(escalated.steps[0].escalatedTo).toBe('role:board');

    // 8 h after the escalation: expired, the request rejected (order-intake then cancels the order).
    await advance(8 * HOUR);
    const expired = await approvalOf(orderId, (a) => a.status === 'rejected', 'expired');
    expect(expired.steps[0].status).toBe('expired');
    const { rows } = await pool.query<{ event_type: string }>(`SELECT event_type FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_position`, [`approval-${id}`]);
    expect(rows.map((r) => r.event_type)).toEqual(['ApprovalRequested', 'ApprovalStepStarted', 'ApprovalStepReminded', 'ApprovalStepEscalated', 'ApprovalExpired', 'ApprovalRejected']);

    // Each timer ran exactly once, on one of the two instances.
    const runs = await eventually('three timer runs', async () => {
      const r = await timerRuns(id);
      return r.length >= 3 ? r : undefined;
    });
    expect(runs.map((r) => [r.job_key, r.outcome])).toEqual([
      [`${id}:gm_approval:1:remind`, 'ApprovalStepReminded'],
      [`${id}:gm_approval:1:escalate`, 'ApprovalStepEscalated'],
      [`${id}:gm_approval:1:expire`, 'ApprovalExpired,ApprovalRejected'],
    ]);
    for (const r of runs) expect(['clock-a', 'clock-b']).toContain(r.instance);
    const clock = await call(B(), 'GET', '/api/test/clock');
    expect(clock.json.offsetMs).toBe(16 * HOUR + 60_000);
  }, 120_000);
});
