import { describe, expect, it } from 'vitest';
import { douyinPushSign, douyinSign, jdSign, pddSign, shopifyWebhookHmac, sortedJson, sortedKv, topSign, verifyDouyinPush, verifyShopifyWebhook } from './signing';

/*
 * Vectors derived by hand from each platform's documented algorithm: the concatenated string is
 * written out below, and the digest was taken with openssl (an implementation independent of
 * node:crypto), e.g. printf '%s' "secret123${s}secret123" | openssl md5.
 */

const top = (sign_method: string) => ({
  app_key: '12345',
  method: 'taobao.trades.sold.increment.get',
  timestamp: '2025-11-25 15:59:00',
  format: 'json',
  v: '2.0',
  sign_method,
  fields: 'tid',
  page_no: '1',
});

describe('Taobao TOP signing', () => {
  it('sorts keys and concatenates k+v with no separator, sign left out', () => {
    expect(sortedKv({ ...top('md5'), sign: 'X' })).toBe('app_key12345fieldstidformatjsonmethodtaobao.trades.sold.increment.getpage_no1sign_methodmd5timestamp2025-11-25 15:59:00v2.0');
  });

  it('md5: upper MD5(secret + s + secret)', () => {
    // openssl md5 of "secret123" + "app_key12345fieldstid...v2.0" + "secret123"
    expect(topSign(top('md5'), 'secret123', 'md5')).toBe('DDDF25DB4BE91DBA1B6D4A46B7DE734F');
  });

  it('hmac: upper HMAC-MD5(secret, s)', () => {
    // openssl dgst -md5 -hmac secret123 of "app_key12345...sign_methodhmactimestamp2025-11-25 15:59:00v2.0"
    expect(topSign(top('hmac'), 'secret123', 'hmac')).toBe('1131187DF97B02290CD68E68CD82875E');
  });

  it('hmac-sha256: upper HMAC-SHA256(secret, s)', () => {
    expect(topSign(top('hmac-sha256'), 'secret123', 'hmac-sha256')).toBe('C49213599BE9609853EBB9E3E4931814A5380C4217A04761062B1605E3CFA4E6');
  });
});

describe('JD and Pinduoduo signing: upper(MD5(secret + sorted k+v + secret))', () => {
  it('JD: 360buy_param_json sorts before access_token (ASCII "3" < "a")', () => {
    // s = '360buy_param_json{"orderState":"WAIT_SELLER_STOCK_OUT"}access_tokentokapp_keyjdkeymethodjingdong.pop.order.searchtimestamp2025-11-25 15:59:00v2.0'
    const params = { method: 'jingdong.pop.order.search', app_key: 'jdkey', access_token: 'tok', timestamp: '2025-11-25 15:59:00', v: '2.0', '360buy_param_json': '{"orderState":"WAIT_SELLER_STOCK_OUT"}' };
    expect(jdSign(params, 'jdsecret')).toBe('4F3FB4D1568B9469E285A39E0AC8BDE9');
  });

  it('PDD: pdd.order.number.list.increment.get', () => {
    // s = 'client_idpddciddata_typeJSONend_updated_at1764001800is_lucky_flag0order_status5page1page_size100start_updated_at1764000000timestamp1764002000typepdd.order.number.list.increment.get'
    const params = {
      type: 'pdd.order.number.list.increment.get',
      client_id: 'pddcid',
      timestamp: '1764002000',
      data_type: 'JSON',
      is_lucky_flag: '0',
      order_status: '5',
      start_updated_at: '1764000000',
      end_updated_at: '1764001800',
      page: '1',
      page_size: '100',
    };
    expect(pddSign(params, 'pddsecret')).toBe('2CADAE281F21C1AB48E8D8FFBB5B3353');
  });
});

describe('Douyin shop signing', () => {
  const paramJson = sortedJson({ size: 20, page: 0, update_time_start: 1764000000, update_time_end: 1764086400, order_by: 'update_time' });

  it('param_json has its keys sorted recursively and no whitespace', () => {
    expect(paramJson).toBe('{"order_by":"update_time","page":0,"size":20,"update_time_end":1764086400,"update_time_start":1764000000}');
    expect(sortedJson({ b: { z: 1, a: [{ y: 2, x: 1 }] }, a: '1' })).toBe('{"a":"1","b":{"a":[{"x":1,"y":2}],"z":1}}');
  });

  it('md5 and hmac-sha256 of secret+"app_key"+k+"method"+m+"param_json"+pj+"timestamp"+ts+"v2"+secret, lower hex', () => {
    // s = 'dysecretapp_keydykeymethodorder.searchListparam_json{"order_by":...}timestamp1764086400v2dysecret'
    const p = { appKey: 'dykey', method: 'order.searchList', paramJson, timestamp: '1764086400' };
    expect(douyinSign(p, 'dysecret', 'md5')).toBe('6d7ab2d681a17351ffc743dd82135c4f');
    expect(douyinSign(p, 'dysecret', 'hmac-sha256')).toBe('7948857fd839930132ce124668df0d031ecf35f7135f5013f05e3df19d774348');
  });
});

describe('push verification', () => {
  it('Douyin event-sign = lower md5hex(app_key + raw body + app_secret); a tampered body is refused', () => {
    const body = Buffer.from('[{"tag":"101","msg":"{}"}]');
    // openssl md5 of 'dykey[{"tag":"101","msg":"{}"}]dysecret'
    expect(douyinPushSign('dykey', body, 'dysecret')).toBe('9b087c72102fae515b50d5bc0ebbd279');
    expect(verifyDouyinPush('dykey', 'dysecret', body, '9b087c72102fae515b50d5bc0ebbd279')).toBe(true);
    expect(verifyDouyinPush('dykey', 'dysecret', Buffer.from('[{"tag":"101","msg":"{ }"}]'), '9b087c72102fae515b50d5bc0ebbd279')).toBe(false);
    expect(verifyDouyinPush('dykey', 'dysecret', body, undefined)).toBe(false);
  });

  it('Shopify X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the raw body; a tampered body is refused', () => {
    // openssl dgst -sha256 -hmac shpss_test -binary | base64 of '{"id":1001}'
    expect(shopifyWebhookHmac('{"id":1001}', 'shpss_test')).toBe('f2uAlN3xv4lAyCwOnTfyWwj8Hg25jwMXuMBBC1dGyds=');
    expect(verifyShopifyWebhook('shpss_test', Buffer.from('{"id":1001}'), 'f2uAlN3xv4lAyCwOnTfyWwj8Hg25jwMXuMBBC1dGyds=')).toBe(true);
    expect(verifyShopifyWebhook('shpss_test', Buffer.from('{"id":1002}'), 'f2uAlN3xv4lAyCwOnTfyWwj8Hg25jwMXuMBBC1dGyds=')).toBe(false);
    expect(verifyShopifyWebhook('shpss_test', Buffer.from('{"id":1001}'), 'short')).toBe(false);
  });
});
