import { readFileSync } from 'node:fs';
import type { RunningService } from '@flowline/platform';
import { anOrderSubmission, authHeader, createTestDatabase, testTopicPrefix } from '@flowline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../src/infra/order-intake.config';
import { PgOrderStore } from '../src/infra/pg-order-store';
import { startOrderIntake } from './support/order-intake-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Json = Record<string, any>;

/** The shipped rules with a new version name and one more rule: orders tagged vip-review are held for a person. */
function draftWithVipHold(version: string): string {
  return readFileSync(DEFAULT_RULES_FILE, 'utf8')
    .replace(/^ruleSetVersion: .*$/m, `ruleSetVersion: "${version}"`)
    .replace(
      /^rules:\n/m,
      'rules:\n  - id: hold-vip-review\n    when: { fact: order.tags, op: contains, value: vip-review }\n    then:\n      - { decision: hold_for_review, reason: vip order checked by a person }\n\n',
    );
}

// Flow rules as versioned documents (issue #17) against real PostgreSQL, two instances on one database.
describe('order-intake flow rules API (/api/rules/flow)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: RunningService;
  let b: RunningService;
  let seq = 0;
  const uniq = (p: string) => `${p}-${process.pid}-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    db = await createTestDatabase('order_intake_rules');
    a = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
    b = await startOrderIntake({ databaseUrl: db.url, topicPrefix: testTopicPrefix(), processManager: false, relay: false });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  async function call(svc: RunningService, method: string, path: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${svc.httpUrl}${path}`, {
      method,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
  }

  async function place(svc: RunningService, tags: string[] = []): Promise<string> {
    const { customer, shippingAddress, ...rest } = anOrderSubmission({ channelOrderId: uniq('TM'), tags });
    const res = await call(svc, 'POST', '/api/orders', { ...rest, customer, shippingAddress }, { 'idempotency-key': uniq('key') });
    expect(res.status).toBe(201);
    return String(res.json.orderId);
  }

  async function ruleEvents(svc: RunningService, orderId: string) {
    const { events } = await svc.app.get(PgOrderStore).load(orderId);
    return events.filter((e) => e.type === 'OrderRuleDecided' || e.type === 'OrderPutOnHold').map((e) => ({ type: e.type, data: e.data as Json }));
  }

  it('serves the seeded version 1 from the rules file to staff', async () => {
    const res = await call(a, 'GET', '/api/rules/flow', undefined, await authHeader('warehouse'));
    expect(res.status).toBe(200);
    expect(res.json.current).toMatchObject({ version: 1, label: '2025.12.1', author: 'file:default.rules.yaml' });
    expect(res.json.current.document).toBe(readFileSync(DEFAULT_RULES_FILE, 'utf8'));
    expect(res.json.versions.map((v: Json) => v.version)).toEqual([1]);
  });

  it('validate answers 422 RULES_INVALID naming the path of each problem in the document', async () => {
    const bad = readFileSync(DEFAULT_RULES_FILE, 'utf8')
      .replace('op: contains, value: blocked', 'op: greaterThan, value: blocked')
      .replace('  - id: approval-large-or-custom', '  - id: approval-large-or-custom\n    colour: red');
    const res = await call(a, 'POST', '/api/rules/flow/validate', { document: bad });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('RULES_INVALID');
    expect(res.json.details.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'rules[1]', ruleId: 'approval-large-or-custom', reason: 'unknown property "colour"' }),
      ]),
    );
    const semantic = await call(a, 'POST', '/api/rules/flow/validate', { document: readFileSync(DEFAULT_RULES_FILE, 'utf8').replace('op: contains, value: blocked', 'op: greaterThan, value: blocked') });
    expect(semantic.status).toBe(422);
    expect(semantic.json.details.problems).toEqual([expect.objectContaining({ path: 'rules[0].when.op', ruleId: 'hold-blocked-customer' })]);

    const good = await call(a, 'POST', '/api/rules/flow/validate', { document: draftWithVipHold('2026.12.5') });
    expect(good).toMatchObject({ status: 200, json: { valid: true, ruleSetVersion: '2026.12.5', rules: 5 } });
  });

  it('dry-run gives what the rules in force and a draft would decide for the order now, writing nothing', async () => {
    const orderId = await place(a, ['vip-review']);
    const before = await a.app.get(PgOrderStore).load(orderId);

    const now = await call(a, 'POST', '/api/rules/flow/dry-run', { orderId }, await authHeader('customer_service'));
    expect(now.status).toBe(200);
    expect(now.json).toMatchObject({ orderId, ruleSetVersion: '2025.12.1', stage: 'placed', draft: false, fired: [], outcome: { kind: 'blocked' } });
    expect(now.json.facts['order.tags']).toEqual(['vip-review']);

    const draft = await call(a, 'POST', '/api/rules/flow/dry-run', { orderId, document: draftWithVipHold('2026.12.5') });
    expect(draft.status).toBe(200);
    expect(draft.json).toMatchObject({
      ruleSetVersion: '2026.12.5',
      draft: true,
      fired: [{ ruleId: 'hold-vip-review', decision: 'hold_for_review', params: { reason: 'vip order checked by a person' } }],
      outcome: { kind: 'hold', ruleId: 'hold-vip-review', reason: 'vip order checked by a person' },
    });
    expect((await a.app.get(PgOrderStore).load(orderId)).revision).toEqual(before.revision);

    expect((await call(a, 'POST', '/api/rules/flow/dry-run', { orderId: '01JDGZ6M3V8Q4R5S6T7U8V9W0X' })).status).toBe(404);
  });

  it('PUT saves a new version (author = token subject, reason) that the next order placed records, and the other instance picks it up', async () => {
    const current = (await call(a, 'GET', '/api/rules/flow')).json.current as Json;
    const document = draftWithVipHold('2026.12.5');

    const refused = await call(a, 'PUT', '/api/rules/flow', { document, reason: 'vip review', expectedVersion: current.version }, await authHeader('customer_service'));
    expect(refused.status).toBe(403);
    const stale = await call(a, 'PUT', '/api/rules/flow', { document, reason: 'vip review', expectedVersion: current.version - 1 });
    expect(stale).toMatchObject({ status: 409, json: { code: 'RULES_VERSION_CONFLICT', details: { expected: current.version - 1, actual: current.version } } });
    const sameName = await call(a, 'PUT', '/api/rules/flow', { document: draftWithVipHold('2025.12.1'), reason: 'vip review', expectedVersion: current.version });
    expect(sameName.status).toBe(422);
    expect(sameName.json.details.problems[0].path).toBe('ruleSetVersion');

    const saved = await call(a, 'PUT', '/api/rules/flow', { document, reason: 'VIP 订单人工复核', expectedVersion: current.version }, await authHeader('general_manager'));
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ version: current.version + 1, label: '2026.12.5', reason: 'VIP 订单人工复核', document });
    expect(saved.json.author).not.toMatch(/^file:/);

    // The saving instance decides with it at once.
    const onA = await place(a, ['vip-review']);
    const eventsA = await ruleEvents(a, onA);
    expect(eventsA.find((e) => e.type === 'OrderRuleDecided')?.data).toMatchObject({ ruleId: 'hold-vip-review', ruleSetVersion: '2026.12.5', ruleSetHash: saved.json.ruleSetHash });
    expect(eventsA.some((e) => e.type === 'OrderPutOnHold')).toBe(true);

    // The other instance follows within its poll interval (1 s).
    const deadline = Date.now() + 10_000;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = Number((await call(b, 'GET', '/api/rules/flow')).json.current.version);
      if (seen === current.version + 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toBe(current.version + 1);
    const onB = await place(b, ['vip-review']);
    expect((await ruleEvents(b, onB)).find((e) => e.type === 'OrderRuleDecided')?.data).toMatchObject({ ruleId: 'hold-vip-review', ruleSetVersion: '2026.12.5' });

    const versions = (await call(b, 'GET', '/api/rules/flow')).json.versions as Json[];
    expect(versions.map((v) => v.version)).toEqual([current.version + 1, current.version]);
    const first = await call(b, 'GET', `/api/rules/flow/versions/${current.version}`);
    expect(first.json).toMatchObject({ version: current.version, label: '2025.12.1' });
  });
});
