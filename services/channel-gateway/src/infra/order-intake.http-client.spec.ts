import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCommandRefused } from '../application/order-intake.port';
import { OrderIntakeHttpClient, refusalMessage } from './order-intake.http-client';

// order-intake answers a refusal as RFC 9457 problem+json: `detail` says why; `errors[]` may name the
// field with an empty message (REFUND_AMOUNT_INVALID). The refusal's text must still say why.

describe("order-intake's refusal text", () => {
  const problem = { type: 'about:blank', title: 'Unprocessable Content', status: 422, code: 'REFUND_AMOUNT_INVALID', detail: 'refund 18790 is more than the 12800 paid', errors: [{ field: 'amount', constraint: 'refused', message: '' }] };
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(422, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problem));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('falls back to the detail (naming the field) when the violations have no text', async () => {
    const err = await new OrderIntakeHttpClient(url).requestRefund('o1', 18790, 'platform after-sales refund', 'k1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrderCommandRefused);
    expect(err).toMatchObject({ status: 422, code: 'REFUND_AMOUNT_INVALID', message: 'refund 18790 is more than the 12800 paid (amount)' });
  });

  it('keeps violations that say something; then title, message, the body', () => {
    expect(refusalMessage({ errors: [{ field: 'lines.0.title', message: 'must be 1-200 characters' }, { field: 'x', message: '' }] }, '')).toBe('lines.0.title: must be 1-200 characters');
    expect(refusalMessage({ title: 'Conflict', errors: [] }, '')).toBe('Conflict');
    expect(refusalMessage({ message: 'order o1 is shipped' }, '')).toBe('order o1 is shipped');
    expect(refusalMessage({}, 'plain text refusal')).toBe('plain text refusal');
  });
});
