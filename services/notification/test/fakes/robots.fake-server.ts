import { createHmac } from 'node:crypto';
import { FakeHttpServer } from './fake-http';

/*
 * DingTalk custom robot, as documented for "加签": POST /robot/send?access_token=T&timestamp=ms&sign=S
 * where S = urlencode(base64(HMAC-SHA256(key = secret, data = timestamp + "\n" + secret))); a
 * timestamp more than an hour off, or a sign that does not match, -> errcode 310000. More than 20
 * messages in a minute for one robot -> 130101 (send too fast).
 */
export interface DingtalkFakeOptions {
  /** access_token -> secret of each robot. */
  robots: Record<string, string>;
  perMinute?: number;
  now?: () => number;
}

export function dingtalkFake(options: DingtalkFakeOptions): FakeHttpServer {
  const sent = new Map<string, number[]>();
  return new FakeHttpServer('dingtalk', (req, f) => {
    if (req.url.pathname !== '/robot/send' || req.method !== 'POST') return { status: 404, json: { errcode: 404, errmsg: 'not found' } };
    const token = req.url.searchParams.get('access_token') ?? '';
    const timestamp = req.url.searchParams.get('timestamp') ?? '';
    // URLSearchParams decodes once: what remains is the base64 the robot signed.
    const sign = req.url.searchParams.get('sign') ?? '';
    const refuse = (errcode: number, errmsg: string) => {
      f.record({ accepted: false, reason: `${errcode} ${errmsg}`, robot: token });
      return { status: 200, json: { errcode, errmsg } };
    };
    const secret = options.robots[token];
    if (secret === undefined) return refuse(300001, 'token is not exist');
    const now = options.now?.() ?? Date.now();
    if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > 3_600_000) return refuse(310000, 'sign not match, more: [timestamp invalid]');
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
    if (sign !== expected) return refuse(310000, 'sign not match, more: [sign not match]');
    const window = (sent.get(token) ?? []).filter((t) => now - t < 60_000);
    if (window.length >= (options.perMinute ?? 20)) return refuse(130101, 'send too fast, exceed 20 times per minute');
    const body = JSON.parse(req.body) as { msgtype?: string; markdown?: { title?: string; text?: string }; text?: { content?: string } };
    if (body.msgtype !== 'markdown' && body.msgtype !== 'text') return refuse(40035, 'msgtype invalid');
    const injected = f.takeFailure();
    if (injected) {
      f.record({ accepted: false, reason: `injected ${JSON.stringify(injected.json)}`, robot: token });
      return injected;
    }
    window.push(now);
    sent.set(token, window);
    f.record({ accepted: true, robot: token, msgtype: body.msgtype, title: body.markdown?.title ?? null, text: body.markdown?.text ?? body.text?.content ?? '' });
    return { status: 200, json: { errcode: 0, errmsg: 'ok' } };
  });
}

/** WeCom group robot: POST /cgi-bin/webhook/send?key=KEY; an unknown key -> 93000 invalid webhook url. */
export function wecomFake(options: { keys: string[] }): FakeHttpServer {
  return new FakeHttpServer('wecom', (req, f) => {
    if (req.url.pathname !== '/cgi-bin/webhook/send' || req.method !== 'POST') return { status: 404, json: { errcode: 404, errmsg: 'not found' } };
    const key = req.url.searchParams.get('key') ?? '';
    if (!options.keys.includes(key)) {
      f.record({ accepted: false, reason: '93000 invalid webhook url', key });
      return { status: 200, json: { errcode: 93000, errmsg: 'invalid webhook url' } };
    }
    const body = JSON.parse(req.body) as { msgtype?: string; markdown?: { content?: string }; text?: { content?: string } };
    const content = body.markdown?.content ?? body.text?.content;
    if (!content) {
      f.record({ accepted: false, reason: '40008 invalid message type', key });
      return { status: 200, json: { errcode: 40008, errmsg: 'invalid message type' } };
    }
    f.record({ accepted: true, key, msgtype: body.msgtype, text: content });
    return { status: 200, json: { errcode: 0, errmsg: 'ok' } };
  });
}

/**
 * A receiver of Flowline's signed webhooks: recomputes `sha256=` + hex HMAC-SHA256(secret,
 * timestamp + "." + raw body) and refuses (401) a mismatch or a timestamp more than 5 minutes off.
 */
export function webhookReceiverFake(options: { secret: string; now?: () => number }): FakeHttpServer {
  return new FakeHttpServer('webhook', (req, f) => {
    const ts = String(req.headers['x-flowline-timestamp'] ?? '');
    const sig = String(req.headers['x-flowline-signature'] ?? '');
    const expected = `sha256=${createHmac('sha256', options.secret).update(`${ts}.${req.body}`, 'utf8').digest('hex')}`;
    const now = (options.now?.() ?? Date.now()) / 1000;
    if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > 300 || sig !== expected) {
      f.record({ accepted: false, reason: 'signature mismatch or stale timestamp', delivery: req.headers['x-flowline-delivery'] ?? null });
      return { status: 401, json: { error: 'invalid signature' } };
    }
    const injected = f.takeFailure();
    if (injected) {
      f.record({ accepted: false, reason: `injected ${injected.status}`, delivery: req.headers['x-flowline-delivery'] ?? null });
      return injected;
    }
    f.record({ accepted: true, delivery: req.headers['x-flowline-delivery'] ?? null, body: JSON.parse(req.body) as unknown });
    return { status: 204, json: null };
  });
}
