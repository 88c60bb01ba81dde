import { createHash } from 'node:crypto';
import { postForm, startFormServer, type FakeServer } from './form-server';

/*
 * A fake of Kuaidi100's subscription API (快递100 订阅推送): POST /poll with schema=json and
 * param={company, number, key, parameters: {callbackurl, salt}}; an unknown key -> returnCode 600,
 * a repeat -> 501. Its pushes are form POSTs of param (JSON) and sign = upper(MD5(param + salt)),
 * with the salt given at subscription. Written apart from the adapter on purpose.
 */

export interface Kuaidi100Fake extends FakeServer {
  key: string;
  subscriptions: Map<string, { company: string; callbackurl: string; salt: string }>;
  /** Pushes one state of a subscribed number (Kuaidi100 codes: 0 transit, 1 picked up, 2 problem, 3 signed, 5 delivering...). */
  push(number: string, state: string, context: string, options?: { status?: string; tamper?: boolean; time?: string; to?: string }): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function startKuaidi100Fake(options: { port?: number; key?: string } = {}): Promise<Kuaidi100Fake> {
  const key = options.key ?? 'kuaidi100-demo-key';
  const subscriptions = new Map<string, { company: string; callbackurl: string; salt: string }>();
  const server = await startFormServer(options.port ?? 0, (path, f) => {
    if (path !== '/poll') return { status: 404, body: {} };
    if (f.schema !== 'json' || !f.param) return { status: 200, body: { result: false, returnCode: '700', message: '不支持的参数格式' } };
    const p = JSON.parse(f.param) as { company?: string; number?: string; key?: string; parameters?: { callbackurl?: string; salt?: string } };
    if (p.key !== key) return { status: 200, body: { result: false, returnCode: '600', message: '您不是合法的订阅者（即授权Key出错）' } };
    if (!p.company || !p.number || !p.parameters?.callbackurl) return { status: 200, body: { result: false, returnCode: '700', message: '订阅参数错误' } };
    if (subscriptions.has(p.number)) return { status: 200, body: { result: false, returnCode: '501', message: '重复订阅' } };
    subscriptions.set(p.number, { company: p.company, callbackurl: p.parameters.callbackurl, salt: p.parameters.salt ?? '' });
    return { status: 200, body: { result: true, returnCode: '200', message: '提交成功' } };
  });
  return {
    ...server,
    key,
    subscriptions,
    async push(number, state, context, opts = {}) {
      const sub = subscriptions.get(number);
      if (!sub) throw new Error(`kuaidi100 fake: ${number} is not subscribed`);
      const time = opts.time ?? new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
      const param = JSON.stringify({
        status: opts.status ?? 'polling',
        billstatus: 'got',
        message: '',
        lastResult: { message: 'ok', nu: number, ischeck: state === '3' ? '1' : '0', condition: 'F00', com: sub.company, status: '200', state, data: [{ context, time, ftime: time }] },
      });
      const sign = createHash('md5').update(param + sub.salt).digest('hex').toUpperCase();
      if (opts.status === 'abort') subscriptions.delete(number);
      return postForm(opts.to ?? sub.callbackurl, { param: opts.tamper ? param.replace(`"state":"${state}"`, '"state":"3"') : param, sign });
    },
  };
}
