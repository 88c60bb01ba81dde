import { describe, expect, it } from 'vitest';
import { loadNotificationConfig } from '../infra/notification-config';
import { formatIcu, renderMessage } from './templates';
import { templateVars } from './template-vars';
import { truncateVisibly, limitWechatFields } from './wechat-fields';
import type { OrderFacts } from './notification.types';

const config = loadNotificationConfig();
const facts: OrderFacts = {
  orderId: 'o-1', channel: 'jd', channelOrderId: 'JD-900001', customerId: 'c-1', customerNameMasked: '李*', tags: [],
  grandTotal: 25600, currency: 'CNY', itemCount: 2, firstTitle: '明前龙井 250g',
};

describe('templates', () => {
  it('renders the zh-CN paid SMS with the amount in yuan from fen and the item count', () => {
    const vars = templateVars({ eventId: 'e1', type: 'OrderPaid', occurredAt: '2026-11-25T10:00:00.000Z', data: { orderId: 'o-1', amount: 25600, currency: 'CNY', paidAt: '2026-11-25T10:00:00.000Z' } }, facts);
    const m = renderMessage(config.templates, 'order_paid', 'sms', 'zh-CN', vars);
    expect(m).toEqual({ kind: 'text', text: '【Flowline】您的订单JD-900001已支付¥256.00，共2件商品，我们将尽快为您发货。' });
  });

  it('pluralises in English and shows dates in Asia/Shanghai', () => {
    expect(formatIcu('{n, plural, one {# item} other {# items}}', 'en', { n: 1 })).toBe('1 item');
    expect(formatIcu('{n, plural, one {# item} other {# items}}', 'en', { n: 3 })).toBe('3 items');
    // 16:30 UTC is 00:30 the next day in Shanghai.
    expect(formatIcu('{paidAt, date, dt}', 'zh-CN', { paidAt: '2026-11-25T16:30:00.000Z' })).toBe('2026/11/26 00:30');
    expect(formatIcu('{amount, number, money}', 'zh-CN', { amount: 0.05, currency: 'CNY' })).toBe('¥0.05');
  });

  it('puts the tracking number and carrier into the shipped SMS', () => {
    const vars = templateVars({ eventId: 'e2', type: 'OrderShipped', occurredAt: '2026-11-26T02:00:00.000Z', data: { orderId: 'o-1', shipmentId: 's1', carrier: '顺丰速运', trackingNumber: 'SF1234567890' } }, facts);
    expect(renderMessage(config.templates, 'order_shipped', 'sms', 'zh-CN', vars)).toEqual({ kind: 'text', text: '【Flowline】您的订单JD-900001已发货，顺丰速运运单号SF1234567890，请留意查收。' });
  });

  it('cuts WeChat thing values to 20 characters visibly, never inside a character', () => {
    const long = '特级明前西湖龙井茶叶礼盒装送礼佳品二百五十克装👨‍👩‍👧';
    const cut = truncateVisibly(long, 20);
    expect(Array.from(new Intl.Segmenter('zh', { granularity: 'grapheme' }).segment(cut))).toHaveLength(20);
    expect(cut.endsWith('…')).toBe(true);
    expect(truncateVisibly('a👨‍👩‍👧b', 2)).toBe('a…');
    expect(truncateVisibly('短标题', 20)).toBe('短标题');
    const fields = limitWechatFields({ thing3: long, character_string1: 'x'.repeat(40), amount2: '¥1.00' });
    expect(fields.thing3).toHaveLength(cut.length);
    expect(fields.character_string1).toBe(`${'x'.repeat(31)}…`);
    expect(fields.amount2).toBe('¥1.00');
  });

  it('renders WeChat template fields with the limits applied', () => {
    const vars = templateVars({ eventId: 'e1', type: 'OrderPaid', occurredAt: '2026-11-25T10:00:00.000Z', data: { orderId: 'o-1', amount: 25600, currency: 'CNY' } }, { ...facts, firstTitle: '特级明前西湖龙井茶叶礼盒装送礼佳品二百五十克' });
    const m = renderMessage(config.templates, 'order_paid', 'wechat_template', 'zh-CN', vars);
    expect(m.kind === 'wechat' && m.fields).toEqual({ character_string1: 'JD-900001', amount2: '¥256.00', thing3: '特级明前西湖龙井茶叶礼盒装送礼佳品二百…', time4: '2026/11/25 18:00' });
  });

  it('renders the same text again with each call\'s own values and currency, and a changed template with its new text (compiled messages are reused by text)', () => {
    expect(formatIcu('{amount, number, money} / {n}', 'zh-CN', { amount: 1, currency: 'CNY', n: 1 })).toBe('¥1.00 / 1');
    expect(formatIcu('{amount, number, money} / {n}', 'zh-CN', { amount: 2, currency: 'CNY', n: 2 })).toBe('¥2.00 / 2');
    expect(formatIcu('{amount, number, money} / {n}', 'en', { amount: 2, currency: 'USD', n: 3 })).toBe('$2.00 / 3');
    const vars = templateVars({ eventId: 'e1', type: 'OrderPaid', occurredAt: '2026-11-25T10:00:00.000Z', data: { orderId: 'o-1', amount: 25600, currency: 'CNY' } }, facts);
    const paid = config.templates.templates.order_paid;
    const changed = { ...config.templates, templates: { ...config.templates.templates, order_paid: { ...paid, locales: { ...paid.locales, 'zh-CN': { ...paid.locales['zh-CN'], sms: '已支付{amount, number, money}' } } } } };
    expect(renderMessage(config.templates, 'order_paid', 'sms', 'zh-CN', vars)).toEqual({ kind: 'text', text: '【Flowline】您的订单JD-900001已支付¥256.00，共2件商品，我们将尽快为您发货。' });
    expect(renderMessage(changed, 'order_paid', 'sms', 'zh-CN', vars)).toEqual({ kind: 'text', text: '已支付¥256.00' });
  });
});
