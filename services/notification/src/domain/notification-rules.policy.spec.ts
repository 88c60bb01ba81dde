import { describe, expect, it } from 'vitest';
import { loadNotificationConfig, parseNotificationConfig, ConfigError } from '../infra/notification-config';
import { planNotifications } from './notification-rules.policy';
import { applyStaffPreferences } from '../application/staff-preferences';
import { templateVars } from './template-vars';
import { renderMessage } from './templates';
import type { OrderFacts } from './notification.types';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const config = loadNotificationConfig();
const facts: OrderFacts = { orderId: 'o-1', channel: 'jd', channelOrderId: 'JD-1', customerId: 'c-1', customerNameMasked: '李*', tags: [], grandTotal: 12800, currency: 'CNY', itemCount: 1, firstTitle: '茶' };
const ev = (type: string, data: Record<string, unknown> = { orderId: 'o-1' }) => ({ eventId: `e-${type}`, type, occurredAt: '2026-11-25T10:00:00.000Z', data });

describe('notification rules', () => {
  it('an order paid tells the customer by WeChat and SMS; e-mail only from 1,000 yuan', () => {
    expect(planNotifications(ev('OrderPaid'), facts, config.rules, config.staff).map((p) => p.channel)).toEqual(['wechat_template', 'sms']);
    expect(planNotifications(ev('OrderPaid'), { ...facts, grandTotal: 100000 }, config.rules, config.staff).map((p) => p.channel)).toEqual(['wechat_template', 'sms', 'email']);
  });

  it('a started approval step tells its role on the DingTalk robot they chose; a reminder goes to the reminded principals', () => {
    const started = planNotifications(ev('ApprovalStepStarted', { approvalId: 'a1', orderId: 'o-1', step: 'sales', role: 'sales', quorum: 'any', attempt: 1 }), facts, config.rules, config.staff);
    expect(started).toEqual([{ ruleId: 'staff-approval-step-due', template: 'approval_step_due', channel: 'dingtalk', recipient: { kind: 'staff', staffId: 'sales', name: '赵磊', target: 'dingtalk-approvals' } }]);
    const reminded = planNotifications(ev('ApprovalStepReminded', { approvalId: 'a1', orderId: 'o-1', step: 'final', attempt: 1, principals: ['user:gm', 'role:finance'] }), facts, config.rules, config.staff);
    expect(reminded.map((p) => p.recipient.kind === 'staff' && p.recipient.staffId)).toEqual(['finance', 'gm']);
    const escalated = planNotifications(ev('ApprovalStepEscalated', { approvalId: 'a1', orderId: 'o-1', step: 'design', attempt: 1, to: 'role:general_manager' }), facts, config.rules, config.staff);
    expect(escalated.map((p) => p.channel)).toEqual(['dingtalk', 'email']);
  });

  it('a VIP exception goes to customer service on each channel each person chose; a plain one only to the web customer', () => {
    const vip = planNotifications(ev('OrderExceptionFlagged', { orderId: 'o-1', code: 'X', reason: 'r' }), { ...facts, tags: ['vip'] }, config.rules, config.staff);
    expect(vip.map((p) => `${p.recipient.kind}:${p.channel}`)).toEqual(['staff:dingtalk', 'staff:email']);
    expect(planNotifications(ev('OrderExceptionFlagged', { orderId: 'o-1', code: 'X', reason: 'r' }), { ...facts, channel: 'web' }, config.rules, config.staff).map((p) => p.channel)).toEqual(['sms']);
  });

  it("SLA alerts: about to turn red -> customer service; breached -> the order's owner (last staff actor, else the shop's owner, else nobody); stuck -> customer service", () => {
    const sla = { orderId: 'o-1', channelOrderId: 'JD-1', shopId: 'jd-shop', stage: 'paid', segment: 'paid_to_ready', slaStartedAt: '2026-11-25T08:00:00.000Z', slaYellowAt: '2026-11-25T09:36:00.000Z', slaDueAt: '2026-11-25T10:00:00.000Z', detectedAt: '2026-11-25T10:00:01.000Z' };
    const who = (type: string, f: OrderFacts) => planNotifications(ev(type, sla), f, config.rules, config.staff).map((p) => `${p.ruleId}:${p.recipient.kind === 'staff' ? p.recipient.staffId : ''}:${p.channel}`);
    expect(who('OrderSlaTurnedYellow', facts)).toEqual(['staff-sla-about-to-turn-red:cs:dingtalk']);
    // The shop's owner from staff.yaml `shops`.
    expect(who('OrderSlaTurnedRed', { ...facts, shopId: 'jd-shop' })).toEqual(['owner-sla-breached:sales:dingtalk']);
    // A staff member acted on the order: they own it now.
    expect(who('OrderSlaTurnedRed', { ...facts, shopId: 'jd-shop', lastActorId: 'finance' })).toEqual(['owner-sla-breached:finance:dingtalk']);
    // An actor outside the directory (a console user without a staff entry) falls back to the shop's owner; no shop owner: nobody.
    expect(who('OrderSlaTurnedRed', { ...facts, shopId: 'jd-shop', lastActorId: 'u-unknown' })).toEqual(['owner-sla-breached:sales:dingtalk']);
    expect(who('OrderSlaTurnedRed', { ...facts, shopId: 'other-shop' })).toEqual([]);
    expect(who('OrderStuck', facts)).toEqual(['staff-stuck-order:cs:dingtalk', 'staff-stuck-order:cs:email']);
  });

  it('a stored staff channel choice narrows what staff.yaml lists; others keep the YAML default', () => {
    const dir = applyStaffPreferences(config.staff, new Map([['cs', ['email'] as const]]));
    const stuck = planNotifications(ev('OrderStuck', { orderId: 'o-1', stage: 'paid', stageEnteredAt: '2026-11-25T08:00:00.000Z', stuckAt: '2026-11-26T08:00:00.000Z' }), facts, config.rules, dir);
    expect(stuck.map((p) => p.channel)).toEqual(['email']);
    expect(dir.staff.find((m) => m.id === 'gm')).toEqual(config.staff.staff.find((m) => m.id === 'gm'));
    expect(applyStaffPreferences(config.staff, new Map())).toBe(config.staff);
  });

  it('staff.yaml: a shop owner who is not in staff is refused', () => {
    const dir = resolve(__dirname, '../../config');
    const texts = { rules: readFileSync(resolve(dir, 'rules.yaml'), 'utf8'), templates: readFileSync(resolve(dir, 'templates.yaml'), 'utf8'), staff: readFileSync(resolve(dir, 'staff.yaml'), 'utf8').replace('jd-shop: sales', 'jd-shop: u-nobody') };
    expect(() => parseNotificationConfig(texts)).toThrow(/shops.jd-shop: owner u-nobody is not in staff/);
  });

  it('a carrier problem alerts customer service on DingTalk with the carrier, tracking number and description', () => {
    const e = ev('ShipmentCarrierException', { orderId: 'o-1', shipmentId: 's-1', carrier: '顺丰速运', trackingNumber: 'SF1', description: '收件人拒收', at: '2026-11-25T10:00:00.000Z' });
    const planned = planNotifications(e, facts, config.rules, config.staff);
    expect(planned.map((p) => `${p.recipient.kind === 'staff' ? p.recipient.staffId : ''}:${p.channel}`)).toEqual(['cs:dingtalk']);
    expect(renderMessage(config.templates, 'carrier_problem', 'dingtalk', 'zh-CN', templateVars(e, facts))).toEqual({ kind: 'robot', title: '物流异常：JD-1', text: '#### 物流异常\n订单 JD-1（顺丰速运 SF1）：收件人拒收，请联系顾客。' });
  });

  it('plans no customer message for an order it has no facts about', () => {
    expect(planNotifications(ev('OrderShipped'), undefined, config.rules, config.staff)).toEqual([]);
  });

  it('refuses a rules file that breaks the schema or names a missing template, naming the problem', () => {
    const dir = resolve(__dirname, '../../config');
    const texts = { rules: readFileSync(resolve(dir, 'rules.yaml'), 'utf8'), templates: readFileSync(resolve(dir, 'templates.yaml'), 'utf8'), staff: readFileSync(resolve(dir, 'staff.yaml'), 'utf8') };
    expect(() => parseNotificationConfig({ ...texts, rules: texts.rules.replace('channels: [sms]', 'channels: [pager]') })).toThrow(ConfigError);
    expect(() => parseNotificationConfig({ ...texts, rules: texts.rules.replace('template: order_delivered', 'template: nope') })).toThrow(/unknown template nope/);
    expect(() => parseNotificationConfig({ ...texts, templates: texts.templates.replace('共{itemCount}件', '共{itemCount, plural, other {#件}') })).toThrow(/template order_paid/);
    expect(parseNotificationConfig(texts).hash).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  it('every rule renders for its trigger\'s contract fixture, on every channel, in zh-CN and en (no missing variable)', () => {
    const root = resolve(__dirname, '../../../../libs/contracts/fixtures');
    for (const rule of config.rules.rules) {
      const dir = readdirSync(root).find((c) => existsSync(resolve(root, c, `${rule.on}.v1.json`)));
      expect(dir, `no contract fixture for ${rule.on} (rule ${rule.id})`).toBeDefined();
      const fixture = JSON.parse(readFileSync(resolve(root, dir ?? '', `${rule.on}.v1.json`), 'utf8')) as { eventId: string; type: string; occurredAt: string; data: Record<string, unknown> };
      for (const channel of rule.channels) {
        for (const locale of ['zh-CN', 'en'] as const) {
          expect(() => renderMessage(config.templates, rule.template, channel, locale, templateVars(fixture, facts, { approver: '赵磊' })), `${rule.id} ${channel} ${locale}`).not.toThrow();
        }
      }
    }
  });
});
