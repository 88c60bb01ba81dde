import { apiContractSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { expect } from 'vitest';
import { GRPC_SERVICE, SERVICE } from '../src/service';

const NO_ORDER = '01JDGZ6M3V8Q0000000000NONE';

// Strict reflection client over the real process: list, describe, one call per RPC, and the
// malformed-input table on gRPC and REST (issue #11's must-show).
apiContractSuite({
  service: SERVICE.name,
  grpcServices: [GRPC_SERVICE, 'grpc.health.v1.Health'],
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), NOTIFICATION_CONSUMER_GROUP: `notification-contract-${uniqueSuffix()}` }),
  exercise: async (call, http) => {
    const listed = await call('NotificationService/ListNotifications', { orderId: NO_ORDER, channel: 'sms', status: 'NOTIFICATION_STATUS_DELIVERED', page: { pageSize: 10 } });
    expect(listed.ok, listed.error?.details).toBe(true);
    // proto JSON leaves an empty repeated field out
    expect((listed.response as { notifications?: unknown[] }).notifications ?? []).toEqual([]);
    // A well-formed order notification never saw: answered by the implementation, not a validation error.
    const preview = await call('NotificationService/PreviewTemplate', { template: 'order_shipped', channel: 'sms', orderId: NO_ORDER });
    expect(preview.error?.code ?? 0, preview.error?.details).not.toBe(3);
    // Staff channel choice: read the YAML default; a set with a request_id, then cleared.
    const pref = await call('NotificationService/GetStaffPreference', { staffId: 'cs' });
    expect(pref.ok, pref.error?.details).toBe(true);
    const set = await call('NotificationService/SetStaffPreference', { staffId: 'cs', channels: ['email'], requestId: `contract-${uniqueSuffix()}` });
    expect(set.ok, set.error?.details).toBe(true);
    expect((await call('NotificationService/SetStaffPreference', { staffId: 'cs', clear: true })).ok).toBe(true);
    // REST-only checks: opting back in to a channel that does not exist is refused, not a no-op;
    // a malformed notification id in the path is refused before the lookup.
    const put = await fetch(`${http.url}/api/contacts/c-contract`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: '13800001234' }) });
    expect(put.status).toBeLessThan(300);
    const optIn = await fetch(`${http.url}/api/contacts/c-contract/opt-outs/pager`, { method: 'DELETE' });
    expect(optIn.status).toBe(400);
    expect(await optIn.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'channel' }] });
    expect((await fetch(`${http.url}/api/contacts/c-contract/opt-outs/sms`, { method: 'DELETE' })).status).toBe(200);
    // A customer id that is not an id (emoji and a quote) creates no contact: 400 naming it.
    const odd = await fetch(`${http.url}/api/contacts/${encodeURIComponent("😀'")}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: '13800001234' }) });
    expect(odd.status).toBe(400);
    expect(await odd.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'customerId' }] });
    // NUL in a field the DTO does not mark (text PostgreSQL cannot store): 400 naming it, not a 500.
    const nul = await fetch(`${http.url}/api/contacts/c-contract`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: '13800001234', wechatOpenId: 'o\u0000x' }) });
    expect(nul.status).toBe(400);
    expect(await nul.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'wechatOpenId' }] });
    const one = await fetch(`${http.url}/api/notifications/bad%20id%3F`);
    expect(one.status).toBe(400);
    expect(await one.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'id' }] });
  },
  malformed: [
    {
      name: 'ListNotifications with a malformed order id',
      grpc: { method: 'NotificationService/ListNotifications', request: { orderId: 'bad id?' }, field: 'orderId' },
      rest: { method: 'GET', path: '/api/notifications?orderId=bad%20id%3F', field: 'orderId' },
    },
    {
      name: 'ListNotifications with an unknown channel',
      grpc: { method: 'NotificationService/ListNotifications', request: { channel: 'pager' }, field: 'channel' },
      rest: { method: 'GET', path: '/api/notifications?channel=pager', field: 'channel' },
    },
    {
      name: 'ListNotifications with an unknown status',
      grpc: { method: 'NotificationService/ListNotifications', request: { status: 42 }, field: 'status' },
      rest: { method: 'GET', path: '/api/notifications?status=teleported', field: 'status' },
    },
    {
      name: 'ListNotifications with a negative page size',
      grpc: { method: 'NotificationService/ListNotifications', request: { page: { pageSize: -1 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/notifications?limit=-1', field: 'limit' },
    },
    {
      name: 'ListNotifications with a page size above the maximum',
      grpc: { method: 'NotificationService/ListNotifications', request: { page: { pageSize: 501 } }, field: 'page.pageSize' },
      rest: { method: 'GET', path: '/api/notifications?limit=501', field: 'limit' },
    },
    {
      name: 'ListNotifications with a page token it never issued',
      grpc: { method: 'NotificationService/ListNotifications', request: { page: { pageToken: 'abc' } }, field: 'page.pageToken' },
    },
    {
      name: 'GetStaffPreference with a malformed staff id',
      grpc: { method: 'NotificationService/GetStaffPreference', request: { staffId: 'u cs?' }, field: 'staffId' },
      rest: { method: 'GET', path: '/api/staff/u%20cs%3F/preferences', field: 'staffId' },
    },
    {
      name: 'SetStaffPreference with an empty staff id',
      grpc: { method: 'NotificationService/SetStaffPreference', request: { staffId: '', channels: ['email'] }, field: 'staffId' },
    },
    {
      name: 'PreviewTemplate with an empty order id',
      grpc: { method: 'NotificationService/PreviewTemplate', request: { template: 'order_shipped', channel: 'sms', orderId: '' }, field: 'orderId' },
      rest: { method: 'POST', path: '/api/notifications/preview', body: { template: 'order_shipped', channel: 'sms', orderId: '' }, field: 'orderId' },
    },
    {
      name: 'PreviewTemplate with an unknown channel',
      grpc: { method: 'NotificationService/PreviewTemplate', request: { template: 'order_shipped', channel: 'pager', orderId: NO_ORDER }, field: 'channel' },
      rest: { method: 'POST', path: '/api/notifications/preview', body: { template: 'order_shipped', channel: 'pager', orderId: NO_ORDER }, field: 'channel' },
    },
    {
      // Refused by the platform's text check on both transports (the global pipe; the gRPC interceptor), not by this DTO.
      name: 'PreviewTemplate with a NUL in the example event type',
      grpc: { method: 'NotificationService/PreviewTemplate', request: { template: 'order_shipped', channel: 'sms', orderId: NO_ORDER, eventType: 'Order\u0000Shipped' }, field: 'eventType' },
      rest: { method: 'POST', path: '/api/notifications/preview', body: { template: 'order_shipped', channel: 'sms', orderId: NO_ORDER, event: { type: 'Order\u0000Shipped', data: {} } }, field: 'event.type' },
    },
  ],
});
