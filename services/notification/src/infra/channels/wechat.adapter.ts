import type { SendOutcome } from '../../domain/delivery.policy';
import { networkFailure, postJson, type ChannelAdapter, type OutgoingMessage } from './channel.port';

export interface WechatApp {
  appId: string;
  appSecret: string;
}

/** Where access tokens live: one per app, shared by every instance (PostgreSQL in the service). */
export interface WechatTokenCache {
  /**
   * A valid token for the app. `force` with the token that was refused (40001) makes exactly one
   * refresh even when several senders saw the refusal at once: a token newer than `stale` is reused.
   */
  token(app: WechatApp, fetchNew: () => Promise<{ token: string; expiresInSec: number }>, options?: { force?: boolean; stale?: string }): Promise<string>;
}

export class WechatTokenError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
    this.name = 'WechatTokenError';
  }
}

// Token refused: expired (42001), invalid or not the latest (40001), malformed (40014).
const TOKEN_INVALID = new Set([40001, 40014, 42001]);
// Worth retrying later: system busy, frequency limit.
const TRANSIENT = new Set([-1, 45009, 45011]);

/**
 * WeChat official-account template messages (`wechat_template`) and mini-program subscribe messages
 * (`wechat_subscribe`). 43101 (the user has no subscription left) is a permanent refusal: recorded,
 * never retried. A refused token is refreshed and the message retried once.
 */
export class WechatAdapter implements ChannelAdapter {
  constructor(
    readonly channel: 'wechat_template' | 'wechat_subscribe',
    private readonly apiBase: string,
    private readonly app: WechatApp,
    private readonly tokens: WechatTokenCache,
  ) {}

  /** GET /cgi-bin/token (client_credential). */
  async fetchToken(): Promise<{ token: string; expiresInSec: number }> {
    const url = `${this.apiBase}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(this.app.appId)}&secret=${encodeURIComponent(this.app.appSecret)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const json = (await res.json()) as { access_token?: string; expires_in?: number; errcode?: number; errmsg?: string };
    if (!json.access_token) throw new WechatTokenError(json.errcode ?? res.status, json.errmsg ?? 'no access_token');
    return { token: json.access_token, expiresInSec: json.expires_in ?? 7200 };
  }

  private body(m: OutgoingMessage): Record<string, unknown> | undefined {
    if (m.message.kind !== 'wechat') return undefined;
    const data = Object.fromEntries(Object.entries(m.message.fields).map(([k, value]) => [k, { value }]));
    return this.channel === 'wechat_template'
      ? { touser: m.address, template_id: m.message.templateId, ...(m.message.page ? { url: m.message.page } : {}), data }
      : { touser: m.address, template_id: m.message.templateId, ...(m.message.page ? { page: m.message.page } : {}), lang: m.locale === 'en' ? 'en_US' : 'zh_CN', data };
  }

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    const body = this.body(m);
    if (!body) return { ok: false, transient: false, code: 'WRONG_MESSAGE_KIND', message: `${this.channel} needs a wechat message, got ${m.message.kind}` };
    const path = this.channel === 'wechat_template' ? '/cgi-bin/message/template/send' : '/cgi-bin/message/subscribe/send';
    let stale: string | undefined;
    for (let round = 0; round < 2; round++) {
      let token: string;
      try {
        token = await this.tokens.token(this.app, () => this.fetchToken(), stale ? { force: true, stale } : {});
      } catch (e) {
        if (e instanceof WechatTokenError) return { ok: false, transient: TRANSIENT.has(e.errcode), code: `TOKEN_${e.errcode}`, message: e.message };
        return networkFailure(e);
      }
      let r: Awaited<ReturnType<typeof postJson>>;
      try {
        r = await postJson(`${this.apiBase}${path}?access_token=${encodeURIComponent(token)}`, body);
      } catch (e) {
        return networkFailure(e);
      }
      const errcode = Number(r.json?.errcode ?? (r.status === 200 ? 0 : -1));
      if (errcode === 0) return { ok: true, ...(r.json?.msgid !== undefined ? { providerMessageId: String(r.json.msgid) } : {}) };
      if (TOKEN_INVALID.has(errcode) && round === 0) {
        stale = token;
        continue;
      }
      return { ok: false, transient: TRANSIENT.has(errcode) || r.status >= 500, code: String(errcode), message: String(r.json?.errmsg ?? r.text.slice(0, 200)) };
    }
    return { ok: false, transient: true, code: '40001', message: 'access_token refused twice' };
  }
}
