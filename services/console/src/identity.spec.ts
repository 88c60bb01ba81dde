import { describe, expect, it } from 'vitest';
import { upstreamHeaders } from './identity';

describe('the console decides what identity goes upstream in one place', () => {
  it("upstream gets the session's bearer token only: the browser's actor headers, cookies and own Authorization never pass", () => {
    const browser = { 'x-actor-id': 'evil', 'x-actor-role': 'admin', cookie: 'flowline_sid=1', authorization: 'Bearer forged', 'x-flowline-portal': '1', 'if-match': '"3"', 'idempotency-key': 'k1' };
    expect(upstreamHeaders(browser, undefined)).toEqual({ 'if-match': '"3"', 'idempotency-key': 'k1' });
    expect(upstreamHeaders(browser, 'eyJ.session.token')).toEqual({ 'if-match': '"3"', 'idempotency-key': 'k1', authorization: 'Bearer eyJ.session.token' });
  });
});
