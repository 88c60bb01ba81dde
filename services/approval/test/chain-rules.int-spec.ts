import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Topics, type EventEnvelope } from '@flowline/contracts';
import { createKafka, EventPublisher } from '@flowline/messaging';
import { authHeader, kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cluster, eventually, type Body } from './support/cluster';

/*
 * Approval chains as versioned documents (issue #17, ADR 0021): two approval processes on one
 * database. Validate names each problem's path; the dry run says which steps an approval of a chain
 * would get (skip conditions on the grand total); a saved version (general manager) is in force on
 * the other instance within its poll, and the next RequestApproval gets the new chain and version.
 */

const cluster = new Cluster(testTopicPrefix());
const kafka = createKafka({ brokers: kafkaBrokers(), clientId: `approval-chains-${uniqueSuffix()}` });
const publisher = new EventPublisher({ kafka, topicPrefix: cluster.prefix });
const A = () => cluster.procs['chains-a'].httpUrl;
const B = () => cluster.procs['chains-b'].httpUrl;
const SHIPPED = readFileSync(resolve(__dirname, '../chains/default.chains.yaml'), 'utf8');

/** The shipped chains with a new version and custom-order without the designer's step. */
const withoutDesignReview = (version: string) =>
  SHIPPED.replace(/^chainSetVersion: .*$/m, `chainSetVersion: "${version}"`).replace(/\n {6}- id: design_review\n {8}role: designer/, '');

async function requestApproval(chain: string, grandTotal: number): Promise<string> {
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
    data: { orderId, chain, ruleId: 'approval-large-or-custom', ruleSetVersion: 'test', grandTotal, currency: 'CNY' },
  };
  await publisher.publish([{ topic: Topics.approvalCommands, key: orderId, envelope }]);
  return orderId;
}

beforeAll(async () => {
  const db = await cluster.database('approval_chains');
  await cluster.start('chains-a', 'approval', { APPROVAL_INSTANCE_ID: 'chains-a' }, db);
  await cluster.start('chains-b', 'approval', { APPROVAL_INSTANCE_ID: 'chains-b' }, db);
  await publisher.connect();
}, 300_000);

afterAll(async () => {
  await publisher.disconnect().catch(() => undefined);
  await cluster.stop();
}, 120_000);

describe('approval chains API (/api/rules/chains)', () => {
  it('serves the seeded chains, validates with paths and dry-runs which steps an order would get', async () => {
    const overview = await call(A(), 'GET', '/api/rules/chains', undefined, await authHeader('warehouse'));
    expect(overview.status).toBe(200);
    expect(overview.json.current).toMatchObject({ version: 1, label: '2026.12.1', author: 'file:default.chains.yaml', document: SHIPPED });

    const invalid = await call(A(), 'POST', '/api/rules/chains/validate', { document: SHIPPED.replace('role: sales\n', 'role: sales\n        colour: red\n') });
    expect(invalid.status).toBe(422);
    expect(invalid.json.code).toBe('RULES_INVALID');
    expect((invalid.json.details.problems as Body[]).map((p) => p.path)).toContain('/chains/custom-order/steps/0');

    const small = await call(A(), 'POST', '/api/rules/chains/dry-run', { chain: 'custom-order', grandTotal: 300_000 }, await authHeader('customer_service'));
    expect(small.status).toBe(200);
    expect((small.json.steps as Body[]).map((s) => [s.id, s.skipped])).toEqual([['sales_review', false], ['design_review', false], ['cost_review', true], ['gm_approval', false]]);
    const draft = await call(A(), 'POST', '/api/rules/chains/dry-run', { chain: 'custom-order', grandTotal: 800_000, document: withoutDesignReview('2026.12.5') });
    expect(draft.json).toMatchObject({ chainSetVersion: '2026.12.5', draft: true });
    expect((draft.json.steps as Body[]).map((s) => [s.id, s.skipped])).toEqual([['sales_review', false], ['cost_review', false], ['gm_approval', false]]);
    expect((await call(A(), 'POST', '/api/rules/chains/dry-run', { chain: 'no-such-chain', grandTotal: 1 })).status).toBe(404);
  });

  it('a saved version is in force on both instances and the next approval gets its chain and version', async () => {
    const document = withoutDesignReview('2026.12.5');
    expect((await call(A(), 'PUT', '/api/rules/chains', { document, reason: 'r', expectedVersion: 1 }, await authHeader('customer_service'))).status).toBe(403);
    expect((await call(A(), 'PUT', '/api/rules/chains', { document, reason: 'r', expectedVersion: 0 })).status).toBe(409);
    const saved = await call(A(), 'PUT', '/api/rules/chains', { document, reason: '设计评审并入销售评审', expectedVersion: 1 }, await authHeader('general_manager'));
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    expect(saved.json).toMatchObject({ version: 2, label: '2026.12.5', reason: '设计评审并入销售评审' });

    await eventually('instance b has version 2', async () => ((await call(B(), 'GET', '/api/rules/chains')).json.current?.version === 2 ? true : undefined), 15_000);
    // Both instances consume approval commands: whichever takes it decides with the new version.
    for (let i = 0; i < 2; i++) {
      const orderId = await requestApproval('custom-order', 800_000);
      const approval = await eventually('approval started', async () => {
        const r = await call(B(), 'GET', `/api/approvals?orderId=${orderId}`);
        return (r.json.items?.[0] as Body | undefined) ?? undefined;
      }, 60_000);
      expect(approval.chainVersion).toBe('2026.12.5');
      expect((approval.steps as Body[]).map((s) => s.step)).toEqual(['sales_review', 'cost_review', 'gm_approval']);
    }
  });
});
