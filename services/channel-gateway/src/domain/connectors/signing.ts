import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signing of each platform's open API, exactly as documented, and the verification of
 * their pushes. Pure functions (node:crypto only): the fake platforms in the tests check requests
 * with the same functions, and the unit tests pin them to vectors derived by hand.
 */

export type Params = Record<string, string>;

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const hmac = (alg: 'md5' | 'sha256', key: string, s: string) => createHmac(alg, key).update(s, 'utf8').digest('hex');

/** Keys sorted in ASCII order, each key followed by its value, no separators (`sign` itself left out). */
export function sortedKv(params: Params, exclude: string[] = ['sign']): string {
  return Object.keys(params)
    .filter((k) => !exclude.includes(k) && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join('');
}

/**
 * Taobao TOP: sorted k+v of every system and business parameter except `sign`;
 * md5 -> MD5(secret + s + secret); hmac -> HMAC-MD5(secret, s); hmac-sha256 -> HMAC-SHA256(secret, s); upper hex.
 */
export function topSign(params: Params, secret: string, method: 'md5' | 'hmac' | 'hmac-sha256' = (params.sign_method as 'md5') ?? 'md5'): string {
  const s = sortedKv(params);
  const hex = method === 'md5' ? md5(`${secret}${s}${secret}`) : method === 'hmac' ? hmac('md5', secret, s) : hmac('sha256', secret, s);
  return hex.toUpperCase();
}

/** JD (京东宙斯/JOS) and Pinduoduo: upper(MD5(secret + sorted k+v + secret)). */
export function jdSign(params: Params, secret: string): string {
  return md5(`${secret}${sortedKv(params)}${secret}`).toUpperCase();
}

export const pddSign = jdSign;

/** JSON with object keys sorted at every depth and no whitespace: Douyin's param_json. */
export function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
    .join(',')}}`;
}

/**
 * Douyin shop (抖店) open API: s = secret + "app_key" + appKey + "method" + method + "param_json" +
 * paramJson + "timestamp" + timestamp + "v" + "2" + secret; sign_method md5 -> MD5(s),
 * hmac-sha256 -> HMAC-SHA256(secret, s); lower hex.
 */
export function douyinSign(p: { appKey: string; method: string; paramJson: string; timestamp: string }, secret: string, signMethod: 'md5' | 'hmac-sha256' = 'md5'): string {
  const s = `${secret}app_key${p.appKey}method${p.method}param_json${p.paramJson}timestamp${p.timestamp}v2${secret}`;
  return signMethod === 'md5' ? md5(s) : hmac('sha256', secret, s);
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Douyin message push: header `event-sign` = lower md5hex(app_key + raw body + app_secret). */
export function douyinPushSign(appKey: string, rawBody: Buffer | string, secret: string): string {
  return createHash('md5').update(appKey).update(rawBody).update(secret).digest('hex');
}

export function verifyDouyinPush(appKey: string, secret: string, rawBody: Buffer, eventSign: string | undefined): boolean {
  return typeof eventSign === 'string' && equalText(douyinPushSign(appKey, rawBody, secret), eventSign.toLowerCase());
}

/** Shopify webhook: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, raw body)), compared in constant time. */
export function shopifyWebhookHmac(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

export function verifyShopifyWebhook(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  return typeof header === 'string' && equalText(shopifyWebhookHmac(rawBody, secret), header);
}
