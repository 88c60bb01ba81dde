import { countedPool, createTestDatabase, type DbWorkCount } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNotificationConfig } from '../src/infra/notification-config';
import { migrateNotification } from '../src/infra/notification-store';
import { AliyunSmsAdapter, signRpc } from '../src/infra/channels/aliyun-sms.adapter';
import type { OutgoingMessage } from '../src/infra/channels/channel.port';
import { DingtalkRobotAdapter, WecomRobotAdapter } from '../src/infra/channels/dingtalk-robot.adapter';
import { EmailAdapter } from '../src/infra/channels/email.adapter';
import { WebhookAdapter } from '../src/infra/channels/webhook.adapter';
import { WechatAdapter } from '../src/infra/channels/wechat.adapter';
import { PgWechatTokenCache } from '../src/infra/wechat-token.store';
import { aliyunSmsFake } from './fakes/aliyun-sms.fake-server';
import type { FakeHttpServer } from './fakes/fake-http';
import { dingtalkFake, webhookReceiverFake, wecomFake } from './fakes/robots.fake-server';
import { startSmtpSink, type SmtpSink } from './fakes/smtp.fake-server';
import { wechatFake, type WechatFake } from './fakes/wechat.fake-server';

/*
 * Each channel adapter against its local fake, the fake checking requests the way the provider
 * documents them (signatures recomputed by code written apart from the adapter's). A wrong secret
 * and a tampered request are refused by the fake, and the adapter classifies each answer as sent,
 * transient (retry) or permanent (no retry). WeChat tokens live in PostgreSQL, shared by instances.
 */

const msg = (over: Partial<OutgoingMessage>): OutgoingMessage => ({ notificationId: `n-${Math.random().toString(36).slice(2)}`, channel: 'sms', address: '', locale: 'zh-CN', message: { kind: 'text', text: '' }, ...over });

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const fakes: FakeHttpServer[] = [];
let smtp: SmtpSink;

beforeAll(async () => {
  db = await createTestDatabase('notification_adapters');
  pool = new Pool({ connectionString: db.url, max: 6 });
  await migrateNotification(pool);
  smtp = await startSmtpSink({ user: 'flowline', pass: 'smtp-secret' });
});

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await smtp?.close();
  await pool?.end();
  await db?.drop();
});

async function started<T extends FakeHttpServer>(f: T): Promise<T> {
  fakes.push(f);
  await f.start();
  return f;
}

describe('Aliyun SMS SendSms (RPC v1 signature)', () => {
  it('signs the documented example exactly (Alibaba Cloud SMS signature sample)', () => {
    const params = {
      AccessKeyId: 'testId', Action: 'SendSms', Format: 'XML', OutId: '123', PhoneNumbers: '15300000001', RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用', SignatureMethod: 'HMAC-SHA1', SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466', SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007', TemplateParam: '{"customer":"test"}', Timestamp: '2017-07-12T02:42:19Z', Version: '2017-05-25',
    };
    expect(signRpc('GET', params, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
  });

  it('sends with OutId = notification id; the fake verifies the signature and records the text', async () => {
    const fake = await started(aliyunSmsFake({ keys: { LTAI_demo: 'sms-secret' } }));
    const sms = new AliyunSmsAdapter({ endpoint: fake.url, accessKeyId: 'LTAI_demo', accessKeySecret: 'sms-secret', signName: 'Flowline', templateCode: 'SMS_1' });
    const m = msg({ address: '13800001234', message: { kind: 'text', text: '【Flowline】您的订单已发货 (a+b) *~!' } });
    const out = await sms.send(m);
    expect(out).toMatchObject({ ok: true });
    expect(fake.accepted()).toMatchObject([{ phone: '13800001234', outId: m.notificationId, text: '【Flowline】您的订单已发货 (a+b) *~!' }]);
  });

  it('a wrong secret is refused by the fake (SignatureDoesNotMatch) and not retried', async () => {
    const fake = await started(aliyunSmsFake({ keys: { LTAI_demo: 'sms-secret' } }));
    const sms = new AliyunSmsAdapter({ endpoint: fake.url, accessKeyId: 'LTAI_demo', accessKeySecret: 'wrong', signName: 'Flowline', templateCode: 'SMS_1' });
    expect(await sms.send(msg({ address: '13800001234', message: { kind: 'text', text: 'x' } }))).toMatchObject({ ok: false, transient: false, code: 'SignatureDoesNotMatch' });
    expect(fake.accepted()).toHaveLength(0);
  });

  it('a request tampered with after signing is refused', async () => {
    const fake = await started(aliyunSmsFake({ keys: { LTAI_demo: 'sms-secret' } }));
    const params: Record<string, string> = {
      AccessKeyId: 'LTAI_demo', Action: 'SendSms', Format: 'JSON', PhoneNumbers: '13800001234', RegionId: 'cn-hangzhou', SignName: 'Flowline', SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'nonce-1', SignatureVersion: '1.0', TemplateCode: 'SMS_1', TemplateParam: '{"content":"hi"}', Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), Version: '2017-05-25',
    };
    const signed = { ...params, Signature: signRpc('POST', params, 'sms-secret') };
    const res = await fetch(fake.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...signed, PhoneNumbers: '13900009999' }).toString() });
    expect(((await res.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
    const ok = await fetch(fake.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(signed).toString() });
    expect(((await ok.json()) as { Code: string }).Code).toBe('OK');
    const replay = await fetch(fake.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(signed).toString() });
    expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');
  });

  it('an outage (503 ServiceUnavailable) is transient; an illegal number is permanent', async () => {
    const fake = await started(aliyunSmsFake({ keys: { LTAI_demo: 'sms-secret' } }));
    const sms = new AliyunSmsAdapter({ endpoint: fake.url, accessKeyId: 'LTAI_demo', accessKeySecret: 'sms-secret', signName: 'Flowline', templateCode: 'SMS_1' });
    fake.failNext({ count: 1, status: 503, json: { Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.' } });
    expect(await sms.send(msg({ address: '13800001234', message: { kind: 'text', text: 'x' } }))).toMatchObject({ ok: false, transient: true, code: 'ServiceUnavailable' });
    expect(await sms.send(msg({ address: '12345', message: { kind: 'text', text: 'x' } }))).toMatchObject({ ok: false, transient: false, code: 'isv.MOBILE_NUMBER_ILLEGAL' });
  });
});

describe('WeChat template and subscribe messages', () => {
  let fake: WechatFake;
  const oa = { appId: 'wx_oa_demo', appSecret: 'oa-secret' };
  const mp = { appId: 'wx_mp_demo', appSecret: 'mp-secret' };
  const wechatMsg = (address: string, templateId = 'TPL_1') => msg({ channel: 'wechat_template', address, message: { kind: 'wechat', templateId, fields: { thing1: '明前龙井', character_string2: 'JD-1' } } });

  beforeAll(async () => {
    fake = await started(wechatFake({ apps: { [oa.appId]: oa.appSecret, [mp.appId]: mp.appSecret } }));
  });

  it('two instances share one cached access_token per app (one token fetched for both)', async () => {
    const a = new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(pool));
    const b = new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(pool));
    const results = await Promise.all([a.send(wechatMsg('oUser1')), b.send(wechatMsg('oUser2')), a.send(wechatMsg('oUser3'))]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.tokensIssued(oa.appId)).toBe(1);
    expect(fake.accepted().filter((r) => r.kind === 'template').map((r) => r.touser).sort()).toEqual(['oUser1', 'oUser2', 'oUser3']);
  });

  it('an instance reads the shared token row once, not once per message (kept in memory for a minute at most)', async () => {
    const count: DbWorkCount = { statements: 0, transactions: 0 };
    const statements: string[] = [];
    const a = new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(countedPool(pool, count, statements)));
    for (const u of ['oMemo1', 'oMemo2', 'oMemo3']) expect(await a.send(wechatMsg(u))).toMatchObject({ ok: true });
    expect(statements.filter((q) => q.includes('wechat_token'))).toHaveLength(1);
  });

  it('40001 (token no longer valid) refreshes the token and retries once', async () => {
    const a = new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(pool));
    const before = fake.tokensIssued(oa.appId);
    fake.invalidateToken(oa.appId);
    expect(await a.send(wechatMsg('oUser4'))).toMatchObject({ ok: true });
    expect(fake.tokensIssued(oa.appId)).toBe(before + 1);
  });

  it('refreshes a token before it expires (less than five minutes left)', async () => {
    await pool.query(`UPDATE notification.wechat_token SET expires_at = now() + interval '60 seconds' WHERE app_id = $1`, [oa.appId]);
    const before = fake.tokensIssued(oa.appId);
    expect(await new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(pool)).send(wechatMsg('oUser5'))).toMatchObject({ ok: true });
    expect(fake.tokensIssued(oa.appId)).toBe(before + 1);
    const row = await pool.query(`SELECT expires_at > now() + interval '1 hour' AS fresh FROM notification.wechat_token WHERE app_id = $1`, [oa.appId]);
    expect(row.rows[0].fresh).toBe(true);
  });

  it('a subscribe message without a subscription left gets 43101: permanent, not retried', async () => {
    const sub = new WechatAdapter('wechat_subscribe', fake.url, mp, new PgWechatTokenCache(pool));
    fake.subscribe('oMini1', 'SUB_1', 1);
    const m = { ...wechatMsg('oMini1', 'SUB_1'), channel: 'wechat_subscribe' as const };
    expect(await sub.send(m)).toMatchObject({ ok: true });
    expect(await sub.send(m)).toMatchObject({ ok: false, transient: false, code: '43101' });
  });

  it('a wrong app secret is refused by the fake (40125) and not retried', async () => {
    const bad = new WechatAdapter('wechat_template', fake.url, { appId: 'wx_mp_demo', appSecret: 'nope' }, new PgWechatTokenCache(pool));
    await pool.query(`DELETE FROM notification.wechat_token WHERE app_id = 'wx_mp_demo'`);
    expect(await bad.send(wechatMsg('oUser6'))).toMatchObject({ ok: false, transient: false, code: 'TOKEN_40125' });
    expect(fake.refused().some((r) => r.errcode === 40125)).toBe(true);
  });

  it('the fake refuses a thing value over 20 characters (47003), which is why templates cut them', async () => {
    const a = new WechatAdapter('wechat_template', fake.url, oa, new PgWechatTokenCache(pool));
    expect(await a.send(msg({ channel: 'wechat_template', address: 'oUser7', message: { kind: 'wechat', templateId: 'TPL_1', fields: { thing1: '一二三四五六七八九十一二三四五六七八九十一' } } }))).toMatchObject({ ok: false, transient: false, code: '47003' });
  });
});

describe('DingTalk robot, WeCom robot, signed webhook', () => {
  it('DingTalk: signed with timestamp + "\\n" + secret; a wrong secret is refused (310000), sending too fast is transient (130101)', async () => {
    const fake = await started(dingtalkFake({ robots: { 'tok-approvals': 'SECdemo' }, perMinute: 2 }));
    const robot = new DingtalkRobotAdapter((name) => (name === 'ok' ? { url: `${fake.url}/robot/send?access_token=tok-approvals`, secret: 'SECdemo' } : name === 'bad' ? { url: `${fake.url}/robot/send?access_token=tok-approvals`, secret: 'SECwrong' } : undefined));
    const m = (address: string) => msg({ channel: 'dingtalk', address, message: { kind: 'robot', title: '待审批', text: '#### 待您审批\n订单 JD-1' } });
    expect(await robot.send(m('ok'))).toEqual({ ok: true, delivered: true });
    expect(await robot.send(m('bad'))).toMatchObject({ ok: false, transient: false, code: '310000' });
    expect(await robot.send(m('ok'))).toMatchObject({ ok: true });
    expect(await robot.send(m('ok'))).toMatchObject({ ok: false, transient: true, code: '130101' });
    expect(await robot.send(m('missing'))).toMatchObject({ ok: false, transient: false, code: 'ROBOT_NOT_CONFIGURED' });
    expect(fake.accepted()[0]).toMatchObject({ robot: 'tok-approvals', title: '待审批', text: '#### 待您审批\n订单 JD-1' });
  });

  it('WeCom: markdown to the key\'s webhook; an unknown key is refused (93000)', async () => {
    const fake = await started(wecomFake({ keys: ['key-wh'] }));
    const robot = new WecomRobotAdapter((name) => ({ url: `${fake.url}/cgi-bin/webhook/send?key=${name}` }));
    const m = (address: string) => msg({ channel: 'wecom', address, message: { kind: 'robot', title: '库存不足', text: 'TEA 2/0' } });
    expect(await robot.send(m('key-wh'))).toEqual({ ok: true, delivered: true });
    expect(await robot.send(m('key-other'))).toMatchObject({ ok: false, transient: false, code: '93000' });
    expect(fake.accepted()).toMatchObject([{ key: 'key-wh', text: '**库存不足**\nTEA 2/0' }]);
  });

  it('webhook: HMAC-SHA256 over timestamp.body verified by the receiver; a wrong secret gets 401, not retried', async () => {
    const fake = await started(webhookReceiverFake({ secret: 'hook-secret' }));
    const ok = new WebhookAdapter(() => ({ url: `${fake.url}/hook`, secret: 'hook-secret' }));
    const bad = new WebhookAdapter(() => ({ url: `${fake.url}/hook`, secret: 'guess' }));
    const m = msg({ channel: 'webhook', address: 'WEBHOOK_URL', message: { kind: 'robot', title: 't', text: 'x' } });
    expect(await ok.send(m)).toEqual({ ok: true, delivered: true });
    expect(await bad.send(m)).toMatchObject({ ok: false, transient: false, code: 'HTTP_401' });
    expect(fake.accepted()).toMatchObject([{ delivery: m.notificationId, body: { notificationId: m.notificationId, message: { kind: 'robot', title: 't', text: 'x' } } }]);
  });
});

describe('e-mail through nodemailer to an SMTP sink', () => {
  it('delivers the HTML layout with a zh-CN subject; a wrong password is refused (535) and not retried', async () => {
    const layout = loadNotificationConfig().templates.emailLayout ?? '';
    expect(layout).toContain('{{subject}}');
    const good = new EmailAdapter({ url: smtp.smtpUrl(), from: 'Flowline <notify@flowline.example>', layout });
    const bad = new EmailAdapter({ url: smtp.smtpUrl('flowline', 'wrong'), from: 'Flowline <notify@flowline.example>', layout });
    const m = msg({ channel: 'email', address: 'li.lei@example.com', message: { kind: 'email', subject: '订单 JD-1 支付成功', text: '您好 <b>' } });
    expect(await good.send(m)).toMatchObject({ ok: true });
    expect(await bad.send(m)).toMatchObject({ ok: false, transient: false });
    expect(smtp.inbox.accepted()).toMatchObject([{ to: ['li.lei@example.com'], subject: '订单 JD-1 支付成功', notificationId: m.notificationId, html: true }]);
    expect(smtp.inbox.refused()[0].reason).toMatch(/535/);
    expect(good.html('s', '<b>x</b>', 'zh-CN')).toContain('&lt;b&gt;x&lt;/b&gt;');
    good.close();
    bad.close();
  });
});
