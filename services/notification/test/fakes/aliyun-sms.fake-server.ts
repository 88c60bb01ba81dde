import { createHmac } from 'node:crypto';
import { FakeHttpServer, type FakeReply, type FakeRequest } from './fake-http';

/*
 * Aliyun SMS (Dysmsapi 2017-05-25) SendSms over the RPC style, checked as the documentation says,
 * written apart from the adapter so a shared mistake cannot pass both:
 * - every common parameter present; SignatureMethod HMAC-SHA1, SignatureVersion 1.0, Version 2017-05-25;
 * - Timestamp ISO 8601 UTC within 15 minutes; SignatureNonce never seen before (replay refused);
 * - Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)) where StringToSign =
 *   HTTPMethod + "&" + percentEncode("/") + "&" + percentEncode(canonicalized query), the query's
 *   parameters (all but Signature) sorted by name, names and values percent-encoded (RFC 3986:
 *   A-Z a-z 0-9 - _ . ~ kept, space %20, * %2A).
 */

const REQUIRED = ['AccessKeyId', 'Action', 'Format', 'PhoneNumbers', 'SignName', 'TemplateCode', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version', 'Signature'];

function rfc3986(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface AliyunSmsFakeOptions {
  /** AccessKeyId -> AccessKeySecret accepted. */
  keys: Record<string, string>;
  port?: number;
  now?: () => number;
}

export function aliyunSmsFake(options: AliyunSmsFakeOptions): FakeHttpServer {
  const nonces = new Set<string>();
  let seq = 0;
  const refuse = (fake: FakeHttpServer, status: number, code: string, message: string, extra: Record<string, unknown> = {}): FakeReply => {
    fake.record({ accepted: false, reason: `${code}: ${message}`, ...extra });
    return { status, json: { RequestId: `req-${++seq}`, Code: code, Message: message } };
  };
  return new FakeHttpServer('aliyun-sms', (req: FakeRequest, fake) => {
    const params = new URLSearchParams(req.method === 'POST' ? req.body : req.url.search);
    const p: Record<string, string> = {};
    for (const [k, v] of params) p[k] = v;
    for (const k of REQUIRED) if (!p[k]) return refuse(fake, 400, 'MissingParameter', `${k} is mandatory for this action.`);
    if (p.Action !== 'SendSms' || p.Version !== '2017-05-25') return refuse(fake, 400, 'InvalidAction.NotFound', `${p.Action}@${p.Version}`);
    if (p.SignatureMethod !== 'HMAC-SHA1' || p.SignatureVersion !== '1.0') return refuse(fake, 400, 'InvalidSignatureMethod', p.SignatureMethod);
    const secret = options.keys[p.AccessKeyId];
    if (secret === undefined) return refuse(fake, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    const ts = Date.parse(p.Timestamp);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(p.Timestamp) || Math.abs((options.now?.() ?? Date.now()) - ts) > 15 * 60_000) return refuse(fake, 400, 'InvalidTimeStamp.Expired', p.Timestamp);
    const { Signature, ...unsigned } = p;
    const canonical = Object.keys(unsigned).sort().map((k) => `${rfc3986(k)}=${rfc3986(unsigned[k])}`).join('&');
    const stringToSign = `${req.method}&${rfc3986('/')}&${rfc3986(canonical)}`;
    const expected = createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
    if (expected !== Signature) return refuse(fake, 400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`, { outId: p.OutId });
    if (nonces.has(p.SignatureNonce)) return refuse(fake, 400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.add(p.SignatureNonce);
    const injected = fake.takeFailure();
    if (injected) {
      fake.record({ accepted: false, reason: `injected ${JSON.stringify(injected.json)}`, outId: p.OutId, phone: p.PhoneNumbers });
      return injected;
    }
    if (!/^(\+?86)?1\d{10}$/.test(p.PhoneNumbers)) return refuse(fake, 200, 'isv.MOBILE_NUMBER_ILLEGAL', 'invalid mobile number', { outId: p.OutId });
    let content = '';
    try {
      content = String((JSON.parse(p.TemplateParam ?? '{}') as { content?: unknown }).content ?? '');
    } catch {
      return refuse(fake, 200, 'isv.INVALID_JSON_PARAM', 'TemplateParam is not JSON');
    }
    const bizId = `${900000000000000000 + ++seq}^0`;
    fake.record({ accepted: true, phone: p.PhoneNumbers, signName: p.SignName, templateCode: p.TemplateCode, outId: p.OutId ?? null, text: content, bizId });
    return { status: 200, json: { RequestId: `req-${seq}`, BizId: bizId, Code: 'OK', Message: 'OK' } };
  });
}
