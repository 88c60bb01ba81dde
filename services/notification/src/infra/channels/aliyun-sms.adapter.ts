import { createHmac, randomUUID } from 'node:crypto';
import type { SendOutcome } from '../../domain/delivery.policy';
import { httpStatusTransient, networkFailure, type ChannelAdapter, type OutgoingMessage } from './channel.port';

export interface AliyunSmsConfig {
  /** e.g. https://dysmsapi.aliyuncs.com/ (the local fake in tests and `npm start`). */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  /** Approved template whose only parameter `${content}` takes the rendered text. */
  templateCode: string;
  regionId?: string;
  now?: () => Date;
  nonce?: () => string;
}

/** RFC 3986 percent-encoding as Alibaba Cloud's RPC signature requires (space %20, * %2A, ~ kept). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * RPC v1 signature: sort the parameters by name, canonical = k=v pairs percent-encoded and joined
 * with &, StringToSign = METHOD + "&" + pct("/") + "&" + pct(canonical),
 * Signature = Base64(HMAC-SHA1(secret + "&", StringToSign)).
 */
export function signRpc(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`)
    .join('&');
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

// Codes a retry cannot fix (bad number, template, signature, account) vs throttling/outage.
const TRANSIENT_CODES = new Set(['isp.SYSTEM_ERROR', 'isv.BUSINESS_LIMIT_CONTROL', 'Throttling', 'Throttling.User', 'ServiceUnavailable', 'InternalError']);

/**
 * Aliyun SMS SendSms (Dysmsapi 2017-05-25). SendSms is not idempotent: the notification id goes in
 * OutId, and the service never sends a notification twice on its own (one row per dedup key,
 * leased by one instance); OutId lets the provider's receipts and the fake tie messages back.
 */
export class AliyunSmsAdapter implements ChannelAdapter {
  readonly channel = 'sms' as const;
  constructor(private readonly config: AliyunSmsConfig) {}

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    if (m.message.kind !== 'text') return { ok: false, transient: false, code: 'WRONG_MESSAGE_KIND', message: `sms needs text, got ${m.message.kind}` };
    const now = this.config.now?.() ?? new Date();
    const params: Record<string, string> = {
      AccessKeyId: this.config.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      OutId: m.notificationId,
      PhoneNumbers: m.address,
      RegionId: this.config.regionId ?? 'cn-hangzhou',
      SignName: this.config.signName,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: this.config.nonce?.() ?? randomUUID(),
      SignatureVersion: '1.0',
      TemplateCode: this.config.templateCode,
      TemplateParam: JSON.stringify({ content: m.message.text }),
      Timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2017-05-25',
    };
    const body = new URLSearchParams({ ...params, Signature: signRpc('POST', params, this.config.accessKeySecret) });
    let res: Response;
    try {
      res = await fetch(this.config.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      return networkFailure(e);
    }
    const text = await res.text();
    let json: { Code?: string; Message?: string; BizId?: string } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      return { ok: false, transient: httpStatusTransient(res.status), code: `HTTP_${res.status}`, message: text.slice(0, 200) };
    }
    if (res.ok && json.Code === 'OK') return { ok: true, ...(json.BizId ? { providerMessageId: json.BizId } : {}) };
    const code = json.Code ?? `HTTP_${res.status}`;
    return { ok: false, transient: TRANSIENT_CODES.has(code) || httpStatusTransient(res.status), code, message: json.Message ?? text.slice(0, 200) };
  }
}
