import { randomBytes } from 'node:crypto';
import { FakeHttpServer, type FakeReply } from './fake-http';

/*
 * WeChat official account + mini program message APIs, as documented:
 * - GET /cgi-bin/token?grant_type=client_credential&appid&secret -> { access_token, expires_in: 7200 };
 *   an unknown appid -> 40013, a wrong secret -> 40125 (refused, recorded). Fetching a new token
 *   invalidates the app's previous one (as WeChat does after its 5-minute grace, here at once).
 * - POST /cgi-bin/message/template/send?access_token (official account template message);
 * - POST /cgi-bin/message/subscribe/send?access_token (mini program subscribe message): each send
 *   uses one of the user's one-time subscriptions; none left -> 43101.
 * Bad/old token -> 40001. Field values over their type's limit (thing 20, character_string 32,
 * phrase 5) -> 47003, as WeChat refuses them.
 */

export interface WechatFakeOptions {
  /** appid -> secret. */
  apps: Record<string, string>;
  port?: number;
}

const LIMITS: [string, number][] = [['character_string', 32], ['thing', 20], ['phrase', 5]];

export interface WechatFake extends FakeHttpServer {
  /** Grants `count` one-time subscriptions to an open id (mini program). */
  subscribe(openid: string, templateId: string, count: number): void;
  /** Tokens issued per app so far. */
  tokensIssued(appId: string): number;
  /** Makes the app's current token invalid (as when another party fetched a new one). */
  invalidateToken(appId: string): void;
}

export function wechatFake(options: WechatFakeOptions): WechatFake {
  const current = new Map<string, string>(); // appid -> token
  const issued = new Map<string, number>();
  const subscriptions = new Map<string, number>(); // openid|template -> left
  const appOf = (token: string | null) => [...current.entries()].find(([, t]) => t === token)?.[0];
  const err = (fake: FakeHttpServer, errcode: number, errmsg: string, extra: Record<string, unknown> = {}): FakeReply => {
    fake.record({ accepted: false, reason: `${errcode} ${errmsg}`, errcode, ...extra });
    return { status: 200, json: { errcode, errmsg } };
  };
  const fake = new FakeHttpServer('wechat', (req, f) => {
    const path = req.url.pathname;
    if (path === '/cgi-bin/token' && req.method === 'GET') {
      const appid = req.url.searchParams.get('appid') ?? '';
      if (req.url.searchParams.get('grant_type') !== 'client_credential') return err(f, 40002, 'invalid grant_type');
      if (!(appid in options.apps)) return err(f, 40013, 'invalid appid', { appid });
      if (options.apps[appid] !== req.url.searchParams.get('secret')) return err(f, 40125, 'invalid appsecret', { appid });
      const token = randomBytes(24).toString('base64url');
      current.set(appid, token);
      issued.set(appid, (issued.get(appid) ?? 0) + 1);
      return { status: 200, json: { access_token: token, expires_in: 7200 } };
    }
    if ((path === '/cgi-bin/message/template/send' || path === '/cgi-bin/message/subscribe/send') && req.method === 'POST') {
      const appId = appOf(req.url.searchParams.get('access_token'));
      if (!appId) return err(f, 40001, 'invalid credential, access_token is invalid or not latest');
      const body = JSON.parse(req.body) as { touser?: string; template_id?: string; data?: Record<string, { value?: string }> };
      if (!body.touser || !body.template_id || !body.data) return err(f, 47001, 'data format error');
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(body.data)) {
        const value = String(v.value ?? '');
        const limit = LIMITS.find(([p]) => k.startsWith(p))?.[1];
        if (limit !== undefined && Array.from(new Intl.Segmenter('zh', { granularity: 'grapheme' }).segment(value)).length > limit) return err(f, 47003, `argument invalid! data.${k}.value exceeds ${limit}`, { touser: body.touser });
        fields[k] = value;
      }
      const injected = f.takeFailure();
      if (injected) {
        f.record({ accepted: false, reason: `injected ${JSON.stringify(injected.json)}`, touser: body.touser });
        return injected;
      }
      const kind = path.includes('subscribe') ? 'subscribe' : 'template';
      if (kind === 'subscribe') {
        const key = `${body.touser}|${body.template_id}`;
        const left = subscriptions.get(key) ?? 0;
        if (left <= 0) return err(f, 43101, 'user refuse to accept the msg', { touser: body.touser, templateId: body.template_id });
        subscriptions.set(key, left - 1);
      }
      const msgid = Date.now() * 100 + f.records.length;
      f.record({ accepted: true, kind, appId, touser: body.touser, templateId: body.template_id, fields, msgid });
      return { status: 200, json: { errcode: 0, errmsg: 'ok', msgid } };
    }
    if (path === '/__control/subscribe' && req.method === 'POST') {
      const b = JSON.parse(req.body) as { openid: string; templateId: string; count: number };
      subscriptions.set(`${b.openid}|${b.templateId}`, b.count);
      return { status: 204, json: null };
    }
    if (path === '/__control/invalidate-token' && req.method === 'POST') {
      current.delete((JSON.parse(req.body) as { appId: string }).appId);
      return { status: 204, json: null };
    }
    if (path === '/__tokens' && req.method === 'GET') return { status: 200, json: Object.fromEntries(issued) };
    return { status: 404, json: { errcode: 404, errmsg: 'not found' } };
  }) as WechatFake;
  fake.subscribe = (openid, templateId, count) => subscriptions.set(`${openid}|${templateId}`, count);
  fake.tokensIssued = (appId) => issued.get(appId) ?? 0;
  fake.invalidateToken = (appId) => current.delete(appId);
  return fake;
}
