import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CainiaoCarrier, parseCainiaoPush } from '../src/infra/carriers/cainiao.adapter';
import { Kuaidi100Tracking, parseKuaidi100Callback } from '../src/infra/carriers/kuaidi100.adapter';
import { parseSfRoutePush, SfExpressCarrier } from '../src/infra/carriers/sf-express.adapter';
import { startCainiaoFake, type CainiaoFake } from './fakes/cainiao.fake-server';
import { startKuaidi100Fake, type Kuaidi100Fake } from './fakes/kuaidi100.fake-server';
import { startSfExpressFake, type SfFake } from './fakes/sf-express.fake-server';

/*
 * Each carrier adapter against a local fake that checks requests the way the carrier documents
 * them (independent code), and each push the fake signs read back by the adapter: a good
 * signature is accepted, a tampered push refused.
 */

let sf: SfFake;
let k100: Kuaidi100Fake;
let cainiao: CainiaoFake;
let receiver: Server;
let receiverUrl = '';
const received: Record<string, string>[] = [];
let n = 0;
const newId = () => `req-${++n}`;
const parcel = { orderId: 'o-1', shipmentId: 'SHP-o-1-1', warehouseId: 'WH-HZ-01', lines: [{ lineId: 'L1', sku: "西湖龙井 250g (特级)!~*'", quantity: 2 }] };

beforeAll(async () => {
  [sf, k100, cainiao] = await Promise.all([startSfExpressFake(), startKuaidi100Fake(), startCainiaoFake()]);
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(raw)));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callback`;
});

afterAll(async () => {
  await Promise.all([sf?.close(), k100?.close(), cainiao?.close(), new Promise((r) => receiver?.close(r))]);
});

const lastReceived = () => received[received.length - 1];

describe('SF Express', () => {
  it('creates a waybill with a request the fake verifies (msgDigest over Chinese, spaces and !~*\')', async () => {
    const adapter = new SfExpressCarrier({ url: sf.url, partnerId: sf.partnerId, checkWord: sf.checkWord }, newId);
    const { waybillNo } = await adapter.createWaybill(parcel);
    expect(sf.waybills).toContain(waybillNo);
    expect(sf.requests[sf.requests.length - 1].form).toMatchObject({ partnerID: sf.partnerId, serviceCode: 'EXP_RECE_CREATE_ORDER' });
  });

  it('a pack retried for the same parcel (a crash or a timeout after SF booked it) gets the same waybill back, never a second booking', async () => {
    const adapter = new SfExpressCarrier({ url: sf.url, partnerId: sf.partnerId, checkWord: sf.checkWord }, newId);
    const again = { ...parcel, shipmentId: `SHP-retry-${n}` };
    const before = sf.waybills.length;
    const first = await adapter.createWaybill(again);
    const second = await adapter.createWaybill(again);
    expect(second.waybillNo).toBe(first.waybillNo);
    expect(sf.waybills.length).toBe(before + 1);
    // The repeat: refused 8016 重复下单, then the order read back by its orderId.
    expect(sf.requests.slice(-2).map((r) => [r.form.serviceCode, JSON.parse(r.form.msgData).orderId])).toEqual([
      ['EXP_RECE_CREATE_ORDER', again.shipmentId],
      ['EXP_RECE_SEARCH_ORDER_RESP', again.shipmentId],
    ]);
    // Any other refusal stays a refusal.
    await expect(adapter.createWaybill({ ...parcel, shipmentId: `SHP-empty-${n}`, lines: [] })).rejects.toMatchObject({ code: 'CARRIER_REFUSED', details: { code: '1023' } });
  });

  it('a request signed with the wrong check word is refused by SF (A1006), and the adapter says so', async () => {
    const adapter = new SfExpressCarrier({ url: sf.url, partnerId: sf.partnerId, checkWord: 'wrong' }, newId);
    await expect(adapter.createWaybill(parcel)).rejects.toMatchObject({ code: 'CARRIER_REFUSED', details: { code: 'A1006' } });
  });

  it('reads a signed route push, refuses a tampered one and one of more than 10 routes', async () => {
    const route = { mailno: 'SF100', opCode: '50', remark: '顺丰速运 已收取快件', acceptTime: '2026-01-05 10:00:00' };
    await sf.pushRoutes(receiverUrl, [route, { ...route, opCode: '44', remark: '正在派送途中', acceptTime: '2026-01-05 18:00:00' }]);
    expect(parseSfRoutePush(lastReceived(), sf.checkWord)).toEqual([
      { trackingNumber: 'SF100', state: 'picked_up', description: '顺丰速运 已收取快件', at: '2026-01-05T02:00:00.000Z' },
      { trackingNumber: 'SF100', state: 'out_for_delivery', description: '正在派送途中', at: '2026-01-05T10:00:00.000Z' },
    ]);
    await sf.pushRoutes(receiverUrl, [route], true);
    expect(() => parseSfRoutePush(lastReceived(), sf.checkWord)).toThrow(expect.objectContaining({ code: 'CARRIER_SIGNATURE_INVALID' }));
    await sf.pushRoutes(receiverUrl, Array.from({ length: 11 }, () => route));
    expect(() => parseSfRoutePush(lastReceived(), sf.checkWord)).toThrow(expect.objectContaining({ code: 'CARRIER_CALLBACK_INVALID' }));
  });
});

describe('Kuaidi100', () => {
  it('subscribes a number (a repeat is fine), a wrong key is refused', async () => {
    const tracking = new Kuaidi100Tracking({ url: k100.url, key: k100.key, salt: 'salt-1', callbackUrl: receiverUrl });
    await tracking.subscribe('shunfeng', 'SF200');
    await tracking.subscribe('shunfeng', 'SF200');
    expect(k100.subscriptions.get('SF200')).toEqual({ company: 'shunfeng', callbackurl: receiverUrl, salt: 'salt-1' });
    const wrong = new Kuaidi100Tracking({ url: k100.url, key: 'nope', salt: 'salt-1', callbackUrl: receiverUrl });
    await expect(wrong.subscribe('shunfeng', 'SF201')).rejects.toMatchObject({ code: 'CARRIER_REFUSED', details: { code: '600' } });
  });

  it('reads a signed push (states 0-7 mapped), refuses a tampered one, asks to resubscribe on abort', async () => {
    await k100.push('SF200', '5', '【杭州市】快递员正在派件', { time: '2026-01-06 09:30:00' });
    expect(parseKuaidi100Callback(lastReceived(), 'salt-1')).toEqual({
      status: 'polling',
      resubscribe: null,
      update: { trackingNumber: 'SF200', state: 'out_for_delivery', description: '【杭州市】快递员正在派件', at: '2026-01-06T01:30:00.000Z' },
    });
    await k100.push('SF200', '0', '运输中', { tamper: true });
    expect(() => parseKuaidi100Callback(lastReceived(), 'salt-1')).toThrow(expect.objectContaining({ code: 'CARRIER_SIGNATURE_INVALID' }));
    await k100.push('SF200', '2', '疑难件', { status: 'abort' });
    expect(parseKuaidi100Callback(lastReceived(), 'salt-1')).toMatchObject({ status: 'abort', resubscribe: { company: 'shunfeng', number: 'SF200' }, update: { state: 'problem' } });
  });
});

describe('Cainiao e-waybill', () => {
  const config = () => ({
    gatewayUrl: `${cainiao.url}/router/rest`,
    appKey: cainiao.appKey,
    appSecret: cainiao.appSecret,
    session: cainiao.session,
    cpCode: 'ZTO',
    templateUrl: 'https://cloudprint.cainiao.com/template/standard/101/123',
    sender: { name: '仓管', mobile: '13800000000', address: { province: '浙江省', city: '杭州市', district: '余杭区', detail: '仓前街道 1 号' } },
  });

  it('gets a waybill through the TOP gateway (signature verified) with only the encrypted recipient (oaid + tid)', async () => {
    const { waybillNo } = await new CainiaoCarrier(config()).createWaybill({ ...parcel, recipient: { oaid: 'OAID-x9', tid: '4128735609812345678' } });
    expect(waybillNo).toMatch(/^ZTO\d+$/);
    const sent = JSON.parse(cainiao.requests[cainiao.requests.length - 1].form.param_waybill_cloud_print_apply_new_request) as { trade_order_info_dtos: { recipient: unknown }[] };
    expect(sent.trade_order_info_dtos[0].recipient).toEqual({ oaid: 'OAID-x9', tid: '4128735609812345678' });
  });

  it('a retried request for the same parcel gets the same waybill (Cainiao keys it by trade order and package id)', async () => {
    const carrier = new CainiaoCarrier(config());
    const again = { ...parcel, shipmentId: `SHP-cn-retry-${n}`, recipient: { oaid: 'OAID-r1', tid: '4128735609800000001' } };
    const before = cainiao.waybills.length;
    const first = await carrier.createWaybill(again);
    expect((await carrier.createWaybill(again)).waybillNo).toBe(first.waybillNo);
    expect(cainiao.waybills.length).toBe(before + 1);
  });

  it('a wrong secret is refused by the gateway (25 Invalid signature); no oaid is refused before calling', async () => {
    await expect(new CainiaoCarrier({ ...config(), appSecret: 'wrong' }).createWaybill({ ...parcel, recipient: { oaid: 'O', tid: 'T' } })).rejects.toMatchObject({
      code: 'CARRIER_REFUSED',
      message: expect.stringContaining('Invalid signature'),
    });
    const before = cainiao.requests.length;
    await expect(new CainiaoCarrier(config()).createWaybill(parcel)).rejects.toMatchObject({ code: 'CARRIER_RECIPIENT_MISSING' });
    expect(cainiao.requests.length).toBe(before);
  });

  it('reads a signed track push and refuses a tampered one', async () => {
    await cainiao.push(receiverUrl, 'ZTO300', 'TRANSPORT', '快件已到达杭州转运中心');
    expect(parseCainiaoPush(lastReceived(), cainiao.appSecret)).toMatchObject({ trackingNumber: 'ZTO300', state: 'in_transit', description: '快件已到达杭州转运中心' });
    await cainiao.push(receiverUrl, 'ZTO300', 'TRANSPORT', '运输中', true);
    expect(() => parseCainiaoPush(lastReceived(), cainiao.appSecret)).toThrow(expect.objectContaining({ code: 'CARRIER_SIGNATURE_INVALID' }));
  });
});
