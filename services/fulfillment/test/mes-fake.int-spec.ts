import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureHeader } from '../src/infra/webhooks/webhook-outbox';
import { startMesFake, type MesFake } from './fakes/mes.fake-server';

/*
 * The fake MES that `npm start` runs (scripts/fakes/mes.fake.ts), against a stand-in for
 * fulfillment's two endpoints it calls: it subscribes itself, verifies each push with the secret
 * of the subscription reply (a tampered push is refused 401 and starts nothing), and reports the
 * work order of a made-to-order parcel signed with the callback secret, created -> in production
 * % -> completed, again after a refused callback. (The service's side of the callback, with its
 * signature check, runs in fulfillment-journey.e2e-spec.)
 */

const callbackSecret = newWebhookSecret();
const subscriptionSecret = newWebhookSecret();
let fulfillment: Server;
let mes: MesFake;
const received: { status: string; percent?: number; orderId: string }[] = [];
const subscriptions: { url: string; eventTypes: string[] }[] = [];
let refuseNext = 1;

beforeAll(async () => {
  fulfillment = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/api/fulfillment/webhooks/subscriptions') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subscriptions: [] }));
      if (req.method === 'POST' && req.url === '/api/fulfillment/webhooks/subscriptions') {
        subscriptions.push(JSON.parse(body) as { url: string; eventTypes: string[] });
        return void res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'whsub_1', secret: subscriptionSecret }));
      }
      if (req.method === 'POST' && req.url === '/api/fulfillment/callbacks/mes') {
        try {
          new Webhook(callbackSecret).verify(body, {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch {
          return void res.writeHead(422).end('{"code":"CARRIER_SIGNATURE_INVALID"}');
        }
        if (refuseNext > 0) {
          refuseNext--;
          return void res.writeHead(503).end();
        }
        received.push(JSON.parse(body) as { status: string; percent?: number; orderId: string });
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"recorded":true}');
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => fulfillment.listen(0, '127.0.0.1', r));
  mes = await startMesFake({ fulfillmentUrl: `http://127.0.0.1:${(fulfillment.address() as AddressInfo).port}`, callbackSecret, stepMs: 100 });
});

afterAll(async () => {
  await mes?.close();
  await new Promise((r) => fulfillment?.close(r));
});

async function push(type: string, data: Record<string, unknown>, tamper = false): Promise<number> {
  const id = `msg_${type}_${String(data.orderId)}_${tamper ? 't' : 'ok'}`;
  const at = new Date();
  const payload = JSON.stringify({ type, timestamp: at.toISOString(), data });
  const r = await fetch(mes.hookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signatureHeader([subscriptionSecret], id, at, payload) },
    body: tamper ? payload.replace('"awaitingProduction":true', '"awaitingProduction":true ') : payload,
  });
  return r.status;
}

const started = (orderId: string, awaitingProduction: boolean) => ({ orderId, shipments: [{ shipmentId: `SHP-${orderId}-1`, warehouseId: 'WH-1', lines: [{ lineId: 'L1', sku: 'POT-CUSTOM', quantity: 1 }], ...(awaitingProduction ? { awaitingProduction } : {}) }] });

describe('fake MES', () => {
  it('subscribes, verifies pushes, and reports a made-to-order work order created -> in production -> completed, signed', async () => {
    const until = Date.now() + 30_000;
    while (subscriptions.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(subscriptions).toEqual([{ url: mes.hookUrl, eventTypes: ['order.approved', 'order.ready_to_ship'], description: '工厂 MES (fake)' }]);
    while (Date.now() < until && (await push('order.approved', { orderId: 'warmup' })) !== 204) await new Promise((r) => setTimeout(r, 50));

    expect(await push('order.ready_to_ship', started('MTO-TAMPERED', true), true)).toBe(401);
    expect(await push('order.ready_to_ship', started('STOCK-1', false))).toBe(204);
    expect(await push('order.ready_to_ship', started('MTO-1', true))).toBe(204);
    // A redelivered push (same webhook-id) opens no second work order.
    expect(await push('order.ready_to_ship', started('MTO-1', true))).toBe(204);

    while (received.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(received.map((x) => [x.orderId, x.status, x.percent])).toEqual([
      ['MTO-1', 'created', undefined],
      ['MTO-1', 'in_production', 25],
      ['MTO-1', 'in_production', 50],
      ['MTO-1', 'in_production', 75],
      ['MTO-1', 'completed', 100],
    ]);
    // The first callback was refused (503) and sent again; the tampered push was recorded as unverified.
    expect(mes.callbacks.filter((c) => c.httpStatus === 503)).toHaveLength(1);
    expect(mes.pushes.find((p) => p.orderId === 'MTO-TAMPERED')?.verified).toBe(false);
  }, 60_000);
});
