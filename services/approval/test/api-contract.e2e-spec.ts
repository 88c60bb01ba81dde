import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const NONE = '01JDGZ6M3V8Q0000000000NONE';
const meta = () => ({ requestId: `req-${uniqueSuffix()}`, actor: { kind: 'user', id: 'u-contract', role: 'finance' } });
const actor = { 'x-actor-id': 'u-contract', 'x-actor-role': 'finance' };

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show). No approval exists: the commands
// are answered by the implementation (NOT_FOUND with the one error model), not by validation.
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), APPROVAL_CONSUMER_GROUP: `approval-contract-${uniqueSuffix()}` }),
  exercise: async (call) => {
    const pending = await call('ApprovalService/ListPendingApprovals', { role: 'finance', page: { pageSize: 10 } });
    expect(pending.ok, pending.error?.details).toBe(true);
    const mine = await call('ApprovalService/ListMyPendingSteps', { meta: meta() });
    expect(mine.ok, mine.error?.details).toBe(true);
    expect((await call('ApprovalService/GetApproval', { approvalId: NONE })).error?.code).toBe(5);
    expect((await call('ApprovalService/Approve', { meta: meta(), approvalId: NONE, step: 'finance' })).error?.code).toBe(5);
    expect((await call('ApprovalService/Reject', { meta: meta(), approvalId: NONE, step: 'finance', reason: 'price too low' })).error?.code).toBe(5);
    expect((await call('ApprovalService/ReturnForChanges', { meta: meta(), approvalId: NONE, step: 'finance', comment: 'attach the quote' })).error?.code).toBe(5);
    expect((await call('ApprovalService/Resubmit', { meta: meta(), approvalId: NONE, comment: 'quote attached' })).error?.code).toBe(5);
    expect((await call('ApprovalService/Delegate', { meta: meta(), approvalId: NONE, step: 'finance', to: 'u-deputy' })).error?.code).toBe(5);
    const bulk = await call('ApprovalService/BulkApprove', { meta: meta(), items: [{ approvalId: NONE, step: 'finance' }] });
    expect(bulk.ok, bulk.error?.details).toBe(true);
    expect(bulk.response).toMatchObject({ results: [{ approvalId: NONE, code: 'APPROVAL_NOT_FOUND' }] });
  },
  malformed: [
    {
      name: 'GetApproval with an empty approval id',
      grpc: { method: 'ApprovalService/GetApproval', request: { approvalId: '' }, field: 'approvalId' },
    },
    {
      name: 'GetApproval with a malformed approval id',
      grpc: { method: 'ApprovalService/GetApproval', request: { approvalId: 'bad id?' }, field: 'approvalId' },
      rest: { method: 'GET', path: '/api/approvals/bad%20id%3F', field: 'approvalId' },
    },
    {
      name: 'Approve with a malformed approval id',
      grpc: { method: 'ApprovalService/Approve', request: { meta: meta(), approvalId: 'a#b', step: 'finance' }, field: 'approvalId' },
      rest: { method: 'POST', path: '/api/approvals/a%23b/steps/finance/approve', body: {}, headers: actor, field: 'approvalId' },
    },
    {
      name: 'BulkApprove with a malformed approval id',
      grpc: { method: 'ApprovalService/BulkApprove', request: { meta: meta(), items: [{ approvalId: 'x y', step: 'finance' }] }, field: 'items.0.approvalId' },
      rest: { method: 'POST', path: '/api/approvals/bulk-approve', body: { items: [{ approvalId: 'x y', step: 'finance' }] }, headers: actor, field: 'items.0.approvalId' },
    },
    {
      name: 'Reject with an empty step',
      grpc: { method: 'ApprovalService/Reject', request: { meta: meta(), approvalId: NONE, step: '', reason: 'no' }, field: 'step' },
    },
    {
      name: 'Delegate to a malformed user id',
      grpc: { method: 'ApprovalService/Delegate', request: { meta: meta(), approvalId: NONE, step: 'finance', to: 'u deputy' }, field: 'to' },
      rest: { method: 'POST', path: `/api/approvals/${NONE}/steps/finance/delegate`, body: { to: 'u deputy' }, headers: actor, field: 'to' },
    },
    {
      name: 'BulkApprove with an empty step',
      grpc: { method: 'ApprovalService/BulkApprove', request: { meta: meta(), items: [{ approvalId: NONE, step: '' }] }, field: 'items.0.step' },
      rest: { method: 'POST', path: '/api/approvals/bulk-approve', body: { items: [{ approvalId: NONE, step: '' }] }, headers: actor, field: 'items.0.step' },
    },
    {
      name: 'ListPendingApprovals with a negative page size',
      grpc: { method: 'ApprovalService/ListPendingApprovals', request: { page: { pageSize: -1 } }, field: 'page.pageSize' },
    },
    {
      name: 'ListPendingApprovals with a page size above the maximum',
      grpc: { method: 'ApprovalService/ListPendingApprovals', request: { page: { pageSize: 201 } }, field: 'page.pageSize' },
    },
  ],
});
