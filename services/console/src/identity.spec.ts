import { describe, expect, it } from 'vitest';
import { actorFrom, upstreamHeaders } from './identity';

describe('the console decides the acting user in one place', () => {
  it('with the dev login stub on, takes the user and role the browser picked', () => {
    expect(actorFrom({ 'x-actor-id': 'cs-wang', 'x-actor-role': 'customer_service' }, true)).toEqual({ id: 'cs-wang', role: 'customer_service' });
  });

  it('with the stub off, or a malformed or partial identity, nobody acts', () => {
    expect(actorFrom({ 'x-actor-id': 'cs-wang', 'x-actor-role': 'customer_service' }, false)).toBeNull();
    expect(actorFrom({ 'x-actor-id': 'cs-wang' }, true)).toBeNull();
    expect(actorFrom({ 'x-actor-id': 'cs wang\n', 'x-actor-role': 'customer_service' }, true)).toBeNull();
    expect(actorFrom({ 'x-actor-id': 'x'.repeat(65), 'x-actor-role': 'admin' }, true)).toBeNull();
  });

  it('upstream gets the resolved actor only: the browser\'s own actor headers and cookies never pass', () => {
    const browser = { 'x-actor-id': 'evil', 'x-actor-role': 'admin', cookie: 'sid=1', 'if-match': '"3"', 'idempotency-key': 'k1' };
    expect(upstreamHeaders(browser, null)).toEqual({ 'if-match': '"3"', 'idempotency-key': 'k1' });
    expect(upstreamHeaders(browser, { id: 'gm-li', role: 'general_manager' })).toEqual({ 'if-match': '"3"', 'idempotency-key': 'k1', 'x-actor-id': 'gm-li', 'x-actor-role': 'general_manager' });
  });
});
